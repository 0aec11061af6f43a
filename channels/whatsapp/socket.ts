import {
  makeWASocket,
  type AnyMessageContent,
  type AuthenticationState,
  type BaileysEventEmitter,
  type Contact,
  type UserFacingSocketConfig,
  type WAMessage,
  type WAMessageKey,
  type WAPresence,
  type proto,
} from '@whiskeysockets/baileys';
import type { Logger } from '../../src/logger.js';

/** The part of a Baileys socket the adapter uses; tests inject a fake with makeEventBuffer as `ev`. */
export interface WhatsAppSocketLike {
  ev: Pick<BaileysEventEmitter, 'on' | 'off'>;
  /** This linked device: `id` is the phone-number jid (with a device suffix), `lid` its LID. */
  readonly user: Contact | undefined;
  sendMessage(jid: string, content: AnyMessageContent, options?: { quoted?: WAMessage }): Promise<WAMessage | undefined>;
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void>;
  end(error: Error | undefined): unknown;
  requestPairingCode(phoneNumber: string): Promise<string>;
}

export type WhatsAppSocketConfig = UserFacingSocketConfig;
export type WhatsAppSocketFactory = (config: WhatsAppSocketConfig) => WhatsAppSocketLike;

export const makeBaileysSocket: WhatsAppSocketFactory = (config) => makeWASocket(config);

export function socketConfig(opts: {
  auth: AuthenticationState;
  socketUrl: string;
  log: Logger;
  /** Lets Baileys re-send a message the recipient could not decrypt. */
  getMessage?: (key: WAMessageKey) => Promise<proto.IMessage | undefined>;
}): WhatsAppSocketConfig {
  return {
    auth: opts.auth,
    waWebSocketUrl: opts.socketUrl,
    // Baileys is chatty below warn, and its info lines carry key material.
    logger: opts.log.child({ component: 'baileys' }, { level: opts.log.levelVal > 40 ? opts.log.level : 'warn' }),
    // Staying "offline" keeps notifications on the user's phone.
    markOnlineOnConnect: false,
    syncFullHistory: false,
    getMessage: opts.getMessage ?? (async () => undefined),
  };
}

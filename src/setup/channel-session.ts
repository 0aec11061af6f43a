import type { Channel, InboundMessage, InboundReceipt } from '../../channels/channel.js';
import { PLATFORM_NAMES, type PlatformName } from '../../channels/platforms.js';
import type { QrOutput } from '../../channels/whatsapp/qr.js';
import { identityOf } from '../access/identity.js';
import { platformChannels } from '../channel-factory.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { parseCommand } from '../core/commands/parse.js';

export interface ChannelSessionDeps {
  config: Config;
  db: Db;
  log: Logger;
  secret: (name: string) => string | undefined;
  onWhatsAppQr?: QrOutput;
}

/** The real adapter of one platform, as the host would build it from this config, with the others off. */
export function openPlatformChannel(platform: PlatformName, deps: ChannelSessionDeps): Channel {
  const channels = { ...deps.config.enclave.channels };
  for (const name of PLATFORM_NAMES) channels[name] = { ...channels[name], enabled: name === platform } as never;
  const only = { ...deps.config, enclave: { ...deps.config.enclave, channels } };
  const [channel] = platformChannels({ config: only, db: deps.db, log: deps.log, secret: deps.secret, onWhatsAppQr: deps.onWhatsAppQr });
  if (!channel) throw new Error(`the ${platform} channel could not be built`);
  return channel;
}

const ignored = (): Promise<InboundReceipt> => Promise.resolve({ status: 'ignored', settled: Promise.resolve('none') });

/**
 * Connects the platform's adapter and waits for someone to send /whoami to the bot: that person is the
 * owner (the one running setup, who was just told to send it). Answers them in the chat, then disconnects.
 */
export async function waitForWhoami(platform: PlatformName, deps: ChannelSessionDeps, signal: AbortSignal): Promise<{ identity: string; name: string }> {
  const channel = openPlatformChannel(platform, deps);
  let found: ((msg: InboundMessage) => void) | undefined;
  const heard = new Promise<InboundMessage>((resolve) => (found = resolve));
  try {
    await channel.connect((msg) => {
      if (msg.fromBot || parseCommand(msg.text)?.name !== 'whoami') return ignored();
      found?.(msg);
      return ignored();
    });
    const msg = await Promise.race([
      heard,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('no /whoami arrived in time; add the owner later under `owners:` in enclave.yaml, or run `enclave setup` again')), { once: true })),
    ]);
    const identity = identityOf(msg);
    await channel
      .send({ chatId: msg.chatId, text: `You are ${identity}. Enclave setup made you the owner: you may use admin commands such as /register here.`, threadId: msg.threadId })
      .catch((err: Error) => deps.log.warn({ err: err.message }, 'setup could not answer /whoami'));
    return { identity, name: msg.senderName };
  } finally {
    await channel.disconnect().catch(() => undefined);
  }
}

/** Connects WhatsApp (the QR goes to onWhatsAppQr until it is scanned) and waits until the session is linked. */
export async function linkWhatsAppByQr(deps: ChannelSessionDeps, signal: AbortSignal): Promise<void> {
  const channel = openPlatformChannel('whatsapp', deps);
  try {
    await channel.connect(ignored);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (channel.health().connected) done(resolve);
      }, 250);
      const done = (then: () => void) => {
        clearInterval(timer);
        then();
      };
      signal.addEventListener('abort', () => done(() => reject(new Error('WhatsApp was not linked in time; run `enclave setup` again, or link with a code: enclave pair whatsapp --phone <number>'))), { once: true });
    });
  } finally {
    await channel.disconnect().catch(() => undefined);
  }
}

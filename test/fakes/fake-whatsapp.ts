import { makeEventBuffer, type AnyMessageContent, type Contact, type WAMessage, type WAPresence, proto } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import type { WhatsAppSocketConfig, WhatsAppSocketFactory, WhatsAppSocketLike } from '../../channels/whatsapp/socket.js';
import { waitFor } from '../helpers/wait.js';

/** The bot's account in the fake: a phone-number jid and a LID, both with a device suffix as WhatsApp gives them. */
export const FAKE_BOT = { id: '15550001111:7@s.whatsapp.net', lid: '99887766554433:7@lid', name: 'Enclave' } as const;

export interface SentWhatsAppMessage {
  jid: string;
  text: string;
  /** The message this one quotes, when the adapter asked for a reply. */
  quoted?: WAMessage;
  /** The id WhatsApp gave it. */
  id: string;
  /** What the adapter asked Baileys to send (a text, or an image/document/audio with its bytes). */
  content: AnyMessageContent;
}

/** A message to deliver to the bot; `chat` is the remoteJid (…@s.whatsapp.net, …@lid or …@g.us). */
export interface FakeInbound {
  chat: string;
  /** The author in a group chat (key.participant). */
  sender?: string;
  /** The author's other jid in a group chat (key.participantAlt): the phone-number jid of a LID author. */
  senderAlt?: string;
  /** The chat's other jid in a direct chat (key.remoteJidAlt): the phone-number jid of a LID chat. */
  chatAlt?: string;
  text?: string;
  id?: string;
  fromMe?: boolean;
  pushName?: string;
  mentions?: string[];
  /** Makes the message a reply to message `id` written by `author`. */
  quoted?: { id: string; author?: string };
  /** Sends an image (with this caption) instead of text. */
  image?: { caption?: string };
  /** Seconds since the epoch. */
  timestamp?: number;
}

/**
 * WhatsApp as the adapter sees it through its socket seam: `makeSocket` hands out sockets whose
 * `ev` is Baileys' own makeEventBuffer, so connection.update / messages.upsert arrive exactly as
 * Baileys emits them. Every socket opens by itself unless autoOpen is false.
 */
export class FakeWhatsApp {
  readonly sockets: FakeWhatsAppSocket[] = [];
  /** New sockets emit connection 'open' on the next tick. */
  autoOpen = true;
  private seq = 0;

  static async start(): Promise<FakeWhatsApp> {
    return new FakeWhatsApp();
  }

  readonly makeSocket: WhatsAppSocketFactory = (config) => {
    const sock = new FakeWhatsAppSocket(config, this);
    this.sockets.push(sock);
    if (this.autoOpen) setImmediate(() => sock.open());
    return sock;
  };

  /** The newest socket (the one the adapter uses, unless it was closed). */
  get socket(): FakeWhatsAppSocket {
    const sock = this.sockets.at(-1);
    if (!sock) throw new Error('the adapter has not made a socket yet');
    return sock;
  }

  /** Everything the bot sent, over all sockets, in order. */
  get sent(): SentWhatsAppMessage[] {
    return this.sockets.flatMap((s) => s.sent).sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4)));
  }

  waitForSocket(count: number): Promise<FakeWhatsAppSocket> {
    return waitFor(`socket #${count}`, () => this.sockets.length >= count && this.sockets[count - 1]);
  }

  waitForSends(count: number): Promise<SentWhatsAppMessage[]> {
    return waitFor(`${count} sent messages`, () => this.sent.length >= count && this.sent);
  }

  /** Delivers a message on the current socket (messages.upsert, type notify) and returns it. */
  deliver(input: FakeInbound | WAMessage, type: 'notify' | 'append' = 'notify'): WAMessage {
    const msg = 'key' in input ? input : this.build(input);
    this.socket.ev.emit('messages.upsert', { messages: [msg], type });
    return msg;
  }

  build(input: FakeInbound): WAMessage {
    const contextInfo: proto.IContextInfo | undefined =
      input.mentions || input.quoted
        ? {
            mentionedJid: input.mentions,
            stanzaId: input.quoted?.id,
            participant: input.quoted?.author,
            quotedMessage: input.quoted ? { conversation: 'earlier message' } : undefined,
          }
        : undefined;
    const message: proto.IMessage = input.image
      ? { imageMessage: { caption: input.image.caption, mimetype: 'image/jpeg', contextInfo } }
      : contextInfo
        ? { extendedTextMessage: { text: input.text ?? '', contextInfo } }
        : { conversation: input.text ?? '' };
    return {
      key: {
        remoteJid: input.chat,
        fromMe: input.fromMe ?? false,
        id: input.id ?? `IN${++this.seq}`,
        participant: input.sender,
        ...(input.senderAlt ? { participantAlt: input.senderAlt } : {}),
        ...(input.chatAlt ? { remoteJidAlt: input.chatAlt } : {}),
      },
      message,
      messageTimestamp: input.timestamp ?? Math.floor(Date.now() / 1000),
      pushName: input.pushName,
    };
  }

  nextSentId(): string {
    return `BOT-${++this.seq}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.ev.removeAllListeners('connection.update');
  }
}

export class FakeWhatsAppSocket implements WhatsAppSocketLike {
  readonly ev = makeEventBuffer(pino({ level: 'silent' }));
  readonly sent: SentWhatsAppMessage[] = [];
  readonly presences: { type: WAPresence; jid: string | undefined }[] = [];
  readonly pairingRequests: string[] = [];
  /** Errors the next sendMessage calls throw, first one first. */
  readonly sendFailures: Error[] = [];
  /** Every sendMessage call, failed or not. */
  sendAttempts = 0;
  ended = false;

  constructor(
    /** What the adapter passed to the socket factory (auth state, URL, logger...). */
    readonly config: WhatsAppSocketConfig,
    private readonly fake: FakeWhatsApp,
  ) {}

  get user(): Contact | undefined {
    return this.config.auth.creds.me ?? undefined;
  }

  /** Links the session to FAKE_BOT (as a QR scan would), saves it, and opens the connection. */
  open(): void {
    if (this.ended) return;
    this.config.auth.creds.me = { ...FAKE_BOT };
    this.ev.emit('creds.update', { me: { ...FAKE_BOT } });
    this.ev.emit('connection.update', { connection: 'open' });
  }

  showQr(qr: string): void {
    this.ev.emit('connection.update', { qr });
  }

  /** Closes the connection the way Baileys does: a Boom-shaped error carrying a DisconnectReason. */
  drop(statusCode: number | undefined, message = 'Connection Failure'): void {
    if (this.ended) return;
    this.ended = true;
    const error = statusCode === undefined ? new Error(message) : whatsappError(statusCode, message);
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
  }

  async sendMessage(jid: string, content: AnyMessageContent, options?: { quoted?: WAMessage }): Promise<WAMessage | undefined> {
    this.sendAttempts++;
    const failure = this.sendFailures.shift();
    if (failure) throw failure;
    const id = this.fake.nextSentId();
    const text = 'text' in content ? content.text : '';
    this.sent.push({ jid, text, quoted: options?.quoted, id, content });
    return { key: { remoteJid: jid, fromMe: true, id }, message: { conversation: text }, messageTimestamp: Math.floor(Date.now() / 1000) };
  }

  async sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void> {
    this.presences.push({ type, jid: toJid });
  }

  async requestPairingCode(phone: string): Promise<string> {
    this.pairingRequests.push(phone);
    return 'FAKECODE';
  }

  end(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.ev.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
  }
}

/** A failure as Baileys reports it: an Error with Boom's output.statusCode. */
export function whatsappError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { output: { statusCode } });
}

import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import { startWhatsAppLiveReply } from './live-reply.js';
import type { AnyMessageContent, BaileysEventMap, ConnectionState, WAMessage } from '@whiskeysockets/baileys';
import type { Dispatcher } from 'undici';
import { backoffDelay } from '../backoff.js';
import { PermanentSendError, type Channel, type ChannelContext, type ChannelHealth, type DownloadLimits, type InboundAttachment, type InboundHandler, type OutboundFile, type OutboundMessage } from '../channel.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { ChannelStatus } from '../channel-status.js';
import { ChatRateLimiter, type Wait } from '../rate-limiter.js';
import type { WhatsAppConfig, WhatsAppSecrets } from './config.js';
import { disconnectAction, statusCodeOf } from './disconnect.js';
import { downloadWhatsAppMedia, whatsappFileContent } from './media.js';
import { normaliseMessage } from './normalise.js';
import { renderQr, writeQrToStderr, type QrOutput } from './qr.js';
import { RecentMessages } from './recent-messages.js';
import { classifySendError, describe, NotConnectedError } from './send-errors.js';
import { openSessionStore, wipeSession, type SessionStore } from './session-store.js';
import { makeBaileysSocket, socketConfig, type WhatsAppSocketFactory, type WhatsAppSocketLike } from './socket.js';

export interface WhatsAppChannelOptions {
  /** The linked-device session folder (ENCLAVE_HOME/data/whatsapp): 0700, files 0600, kept across restarts. */
  authDir: string;
  /** Shows each pairing QR; default: written to stderr. */
  onQr?: QrOutput;
  /** Makes the Baileys socket; tests inject a fake. Default: Baileys' makeWASocket. */
  makeSocket?: WhatsAppSocketFactory;
  /** Jitter source for reconnect delays. */
  random?: () => number;
  /** How long each QR is shown before the next; default Baileys' (60 s, then 20 s). */
  qrTimeoutMs?: number;
  /** How send pacing waits (tests move a clock instead). */
  wait?: Wait;
  /** The connection pool for one media download (tests serve WhatsApp's media host from memory); default a fresh undici Agent. */
  mediaDispatcher?: () => Dispatcher;
}

export const NOT_LINKED_ERROR =
  'WhatsApp is not linked yet: scan the QR code Enclave printed (WhatsApp > Settings > Linked devices > Link a device) or run `enclave pair whatsapp --phone <number>`';

/**
 * WhatsApp through Baileys as a linked device (WhatsApp Web): one socket at a time, replaced
 * after every close as Baileys' DisconnectReason says (see disconnect.ts).
 */
export class WhatsAppChannel implements Channel {
  readonly name = 'whatsapp';
  readonly maxMessageLength = 4000;
  private sock: WhatsAppSocketLike | undefined;
  /** The session the current socket uses. */
  private store: SessionStore | undefined;
  private handler: InboundHandler | undefined;
  private readonly status: ChannelStatus;
  private readonly clock: Clock;
  private readonly recent = new RecentMessages();
  private readonly chatTitles = new Map<string, string>();
  private readonly limiter: ChatRateLimiter;
  private readonly makeSocket: WhatsAppSocketFactory;
  /** Closes since the last open connection, for the backoff. */
  private failures = 0;
  private badSessionsInARow = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private running = false;
  private failedForGood = false;
  private connectSettled: (() => void) | undefined;

  constructor(
    private readonly config: WhatsAppConfig,
    _secrets: WhatsAppSecrets,
    private readonly ctx: ChannelContext,
    private readonly opts: WhatsAppChannelOptions,
  ) {
    this.limiter = new ChatRateLimiter(config.rateLimit.intervalMs, config.rateLimit.burst, { clock: ctx.clock, wait: opts.wait });
    this.status = new ChannelStatus(ctx.log, ctx.clock);
    this.clock = ctx.clock ?? systemClock;
    this.makeSocket = opts.makeSocket ?? makeBaileysSocket;
  }

  /** Resolves once connected, once a QR waits to be scanned, once failed for good, or after the first failed attempt (retries go on). */
  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
    this.running = true;
    this.failedForGood = false;
    const settled = new Promise<void>((resolve) => (this.connectSettled = resolve));
    void this.openSocket();
    await settled;
  }

  async disconnect(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    const sock = this.sock;
    this.sock = undefined;
    this.store = undefined;
    this.status.disconnected();
    this.settleConnect();
    if (sock) await Promise.resolve(sock.end(undefined)).catch(() => undefined);
  }

  startLiveReply(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
    return startWhatsAppLiveReply((text) => this.post({ chatId: target.chatId, text, replyTo: target.replyTo }), options);
  }

  async send(msg: OutboundMessage): Promise<void> {
    await this.post(msg);
  }

  /** Sends one message (text, or a file's content); resolves with its id. */
  private async post(msg: OutboundMessage & { content?: AnyMessageContent }): Promise<string> {
    if (!msg.chatId.includes('@')) {
      throw new PermanentSendError(`"${msg.chatId}" is not a WhatsApp chat id (expected e.g. 491701234567@s.whatsapp.net or 1203630...@g.us): fix the chat in group.yaml`);
    }
    if (this.failedForGood) throw new PermanentSendError(`WhatsApp is not connected: ${this.status.error ?? 'it stopped'}`);
    await this.limiter.take(msg.chatId);
    const quoted = msg.replyTo ? this.recent.find(msg.chatId, msg.replyTo) : undefined;
    let sent: WAMessage | undefined;
    try {
      const sock = this.sock;
      if (!sock || !this.status.isConnected) throw new NotConnectedError(this.status.error ?? 'WhatsApp is not connected');
      sent = await sock.sendMessage(msg.chatId, msg.content ?? { text: msg.text }, quoted ? { quoted } : undefined);
    } catch (err) {
      throw classifySendError(err, msg.chatId, this.failedForGood);
    }
    if (sent) this.recent.remember(sent, true);
    return sent?.key.id ?? '';
  }

  async downloadAttachment(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
    return downloadWhatsAppMedia(attachment, limits, this.opts.mediaDispatcher);
  }

  /** A photo or document (with its caption), or audio and voice notes (ptt), whose caption follows as text. */
  async sendFile(file: OutboundFile): Promise<void> {
    const content = whatsappFileContent(file);
    await this.post({ chatId: file.chatId, text: '', replyTo: file.replyTo, content });
    if (file.caption && (file.kind === 'voice' || file.kind === 'audio')) {
      await this.send({ chatId: file.chatId, text: file.caption }).catch((err: unknown) => {
        this.ctx.log.warn({ channel: 'whatsapp', chat: file.chatId, err: String(err) }, 'the caption of a voice note was not sent');
      });
    }
  }

  async setTyping(chatId: string, typing: boolean): Promise<void> {
    if (!this.status.isConnected) return;
    await this.sock?.sendPresenceUpdate(typing ? 'composing' : 'paused', chatId).catch(() => undefined);
  }

  health(): ChannelHealth {
    return this.status.health();
  }

  private async openSocket(): Promise<void> {
    let store: SessionStore;
    try {
      store = await openSessionStore(this.opts.authDir);
    } catch (err) {
      return this.failForGood(`Cannot use the WhatsApp session folder ${this.opts.authDir} (${describe(err)}): fix its permissions and restart Enclave`);
    }
    if (!this.running) return;
    let sock: WhatsAppSocketLike;
    try {
      sock = this.makeSocket({
        ...socketConfig({
          auth: store.state,
          socketUrl: this.config.socketUrl,
          log: this.ctx.log,
          getMessage: async (key) => (key.remoteJid && key.id ? (this.recent.find(key.remoteJid, key.id)?.message ?? undefined) : undefined),
        }),
        ...(this.opts.qrTimeoutMs ? { qrTimeout: this.opts.qrTimeoutMs } : {}),
      });
    } catch (err) {
      return this.failForGood(`WhatsApp could not start (${describe(err)}): check channels.whatsapp in enclave.yaml and restart Enclave`);
    }
    this.sock = sock;
    this.store = store;
    sock.ev.on('creds.update', () => {
      store.saveCreds().catch((err: unknown) => this.ctx.log.error({ err: describe(err) }, 'could not save the WhatsApp session'));
    });
    sock.ev.on('connection.update', (update) => this.onConnectionUpdate(sock, update));
    sock.ev.on('messages.upsert', (upsert) => this.onMessages(sock, upsert));
    sock.ev.on('groups.upsert', (groups) => groups.forEach((g) => g.subject && this.chatTitles.set(g.id, g.subject)));
    sock.ev.on('groups.update', (groups) => groups.forEach((g) => g.id && g.subject && this.chatTitles.set(g.id, g.subject)));
  }

  private onConnectionUpdate(sock: WhatsAppSocketLike, update: Partial<ConnectionState>): void {
    if (sock !== this.sock) return;
    this.status.event();
    if (update.qr) this.showQr(update.qr);
    if (update.connection === 'open') {
      this.status.up('WhatsApp connected');
      this.failures = 0;
      this.badSessionsInARow = 0;
      this.settleConnect();
    }
    if (update.connection === 'close') void this.onClose(this.store, update.lastDisconnect?.error);
  }

  private showQr(raw: string): void {
    this.status.waitingFor(NOT_LINKED_ERROR);
    (this.opts.onQr ?? writeQrToStderr)(renderQr(raw), raw);
    this.settleConnect();
  }

  private async onClose(store: SessionStore | undefined, err: Error | undefined): Promise<void> {
    this.sock = undefined;
    this.store = undefined;
    this.status.disconnected();
    if (!this.running) return;
    const code = statusCodeOf(err);
    this.badSessionsInARow = code === 500 ? this.badSessionsInARow + 1 : 0;
    const action = disconnectAction(code, err?.message ?? '', this.badSessionsInARow);
    if (action.wipe) {
      await (store ? store.wipe() : wipeSession(this.opts.authDir)).catch((e: unknown) => this.ctx.log.error({ err: describe(e) }, 'could not delete the WhatsApp session'));
      this.badSessionsInARow = 0;
    }
    if (action.kind === 'stop') return this.failForGood(action.error);
    const delay = action.immediately ? 0 : backoffDelay(this.failures++, this.config.reconnect.baseMs, this.config.reconnect.maxMs, this.opts.random);
    this.status.down(action.error ?? `WhatsApp connection lost (${action.reason}); reconnecting`, 'none');
    this.ctx.log.warn({ channel: this.name, code, delayMs: delay }, `WhatsApp disconnected: ${action.reason}`);
    if (!action.immediately) this.settleConnect();
    this.retryTimer = setTimeout(() => {
      if (!this.running) return;
      this.status.reconnecting();
      void this.openSocket();
    }, delay);
  }

  private onMessages(sock: WhatsAppSocketLike, { messages, type }: BaileysEventMap['messages.upsert']): void {
    if (sock !== this.sock || type !== 'notify') return;
    this.status.event();
    const me = { id: sock.user?.id, lid: sock.user?.lid };
    for (const msg of messages) {
      const inbound = normaliseMessage(msg, {
        me,
        isOwnMessage: (chatId, id) => this.recent.isOwn(chatId, id),
        chatTitle: (chatId) => this.chatTitles.get(chatId),
        now: this.clock,
      });
      if (!inbound) continue;
      this.recent.remember(msg, msg.key.fromMe === true);
      this.handler?.(inbound).catch((err: unknown) => this.ctx.log.error({ err: describe(err), chatId: inbound.chatId }, 'the host did not take a WhatsApp message'));
    }
  }

  private failForGood(error: string): void {
    this.failedForGood = true;
    this.running = false;
    this.status.failed(error);
    this.settleConnect();
  }

  private settleConnect(): void {
    this.connectSettled?.();
    this.connectSettled = undefined;
  }
}

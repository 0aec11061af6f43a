import { DisconnectReason, type ConnectionState } from '@whiskeysockets/baileys';
import type { Logger } from '../../src/logger.js';
import { DEFAULT_WHATSAPP_SOCKET_URL } from './config.js';
import { statusCodeOf } from './disconnect.js';
import { hasLinkedSession, openSessionStore } from './session-store.js';
import { makeBaileysSocket, socketConfig, type WhatsAppSocketFactory, type WhatsAppSocketLike } from './socket.js';

export interface PairingCodeOptions {
  /** The same session folder the WhatsApp channel uses. */
  authDir: string;
  /** The phone's number in international format: country code and number, digits only (a leading + and spaces are tolerated). */
  phone: string;
  /** Default: WhatsApp Web's own endpoint. */
  socketUrl?: string;
  log: Logger;
  /**
   * Called once after the code was handed out: with no argument when the phone has linked this
   * device (the session is saved; start Enclave to use it), otherwise with the reason it did not.
   */
  onLinked?: (error?: Error) => void;
  /** Gives up waiting for the code to be entered. */
  signal?: AbortSignal;
  makeSocket?: WhatsAppSocketFactory;
}

/** Digits only, country code first: "+49 170 1234567" -> "491701234567". Throws with what is wrong. */
export function normalisePhone(phone: string): string {
  const compact = phone.trim().replace(/[\s().-]/g, '').replace(/^\+/, '');
  const hint = 'give the number in international format, country code first, digits only, e.g. 491701234567 for +49 170 1234567';
  if (compact.startsWith('00')) throw new Error(`Phone number "${phone}": drop the leading 00 before the country code; ${hint}`);
  if (!/^\d+$/.test(compact)) throw new Error(`Phone number "${phone}" has characters other than digits; ${hint}`);
  if (compact.startsWith('0')) throw new Error(`Phone number "${phone}" starts with 0, so it has no country code; ${hint}`);
  if (compact.length < 8 || compact.length > 15) throw new Error(`Phone number "${phone}" has ${compact.length} digits, but an international number has 8 to 15; ${hint}`);
  return compact;
}

/**
 * Links this host to WhatsApp without a QR, for headless hosts: resolves with the 8-character
 * code the user enters on the phone (WhatsApp > Linked devices > Link a device > Link with phone
 * number instead), then keeps the connection open until the phone has linked (or the code
 * expired, or `signal` aborted) and reports that through onLinked.
 */
export async function requestPairingCode(opts: PairingCodeOptions): Promise<string> {
  const phone = normalisePhone(opts.phone);
  if (await hasLinkedSession(opts.authDir)) {
    throw new Error(`WhatsApp is already linked (session in ${opts.authDir}). To link another phone, stop Enclave, delete that folder and run this again.`);
  }
  return new PairingAttempt(opts, phone).start();
}

class PairingAttempt {
  private sock: WhatsAppSocketLike | undefined;
  private code: string | undefined;
  private finished = false;
  private lastSave: Promise<void> = Promise.resolve();
  private resolveCode!: (code: string) => void;
  private rejectCode!: (err: Error) => void;

  constructor(
    private readonly opts: PairingCodeOptions,
    private readonly phone: string,
  ) {}

  start(): Promise<string> {
    const codePromise = new Promise<string>((resolve, reject) => {
      this.resolveCode = resolve;
      this.rejectCode = reject;
    });
    this.opts.signal?.addEventListener('abort', () => this.finish(new Error('pairing was cancelled before the phone linked this device')), { once: true });
    if (this.opts.signal?.aborted) this.finish(new Error('pairing was cancelled before it started'));
    else void this.openSocket().catch((err: unknown) => this.finish(asError(err)));
    return codePromise;
  }

  private async openSocket(): Promise<void> {
    await this.lastSave;
    const store = await openSessionStore(this.opts.authDir);
    if (this.finished) return;
    const makeSocket = this.opts.makeSocket ?? makeBaileysSocket;
    const sock = makeSocket(socketConfig({ auth: store.state, socketUrl: this.opts.socketUrl ?? DEFAULT_WHATSAPP_SOCKET_URL, log: this.opts.log }));
    this.sock = sock;
    sock.ev.on('creds.update', () => {
      this.lastSave = this.lastSave.then(() => store.saveCreds()).catch((err: unknown) => this.opts.log.error({ err: asError(err).message }, 'could not save the WhatsApp session'));
    });
    sock.ev.on('connection.update', (update) => this.onUpdate(sock, update));
  }

  private onUpdate(sock: WhatsAppSocketLike, update: Partial<ConnectionState>): void {
    if (sock !== this.sock || this.finished) return;
    // The first QR means the handshake is done and WhatsApp waits for a link: time to ask for a code instead.
    if (update.qr && this.code === undefined) this.askForCode(sock);
    if (update.connection === 'open') this.finish();
    if (update.connection === 'close') this.onClose(update.lastDisconnect?.error);
  }

  private askForCode(sock: WhatsAppSocketLike): void {
    this.code = '';
    sock.requestPairingCode(this.phone).then(
      (code) => {
        this.code = code;
        this.opts.log.info({ channel: 'whatsapp' }, 'WhatsApp pairing code issued; waiting for it to be entered on the phone');
        this.resolveCode(code);
      },
      (err: unknown) => this.finish(new Error(`WhatsApp did not accept the pairing request: ${asError(err).message}`, { cause: err })),
    );
  }

  private onClose(err: Error | undefined): void {
    this.sock = undefined;
    const code = statusCodeOf(err);
    if (code === DisconnectReason.restartRequired && this.code) {
      void this.openSocket().catch((e: unknown) => this.finish(asError(e)));
      return;
    }
    const reason =
      code === DisconnectReason.timedOut
        ? 'the pairing code expired before it was entered: run the command again'
        : `WhatsApp closed the connection (${err?.message ?? 'no reason given'}${code ? `, ${code}` : ''})`;
    this.finish(new Error(reason, { cause: err }));
  }

  /** Ends the attempt once: rejects the code promise if no code was handed out yet, else reports through onLinked. */
  private finish(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    const sock = this.sock;
    this.sock = undefined;
    if (sock) void Promise.resolve(sock.end(undefined)).catch(() => undefined);
    if (!this.code) {
      this.rejectCode(error ?? new Error('WhatsApp connected without a pairing code'));
      return;
    }
    void this.lastSave.then(() => this.opts.onLinked?.(error));
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

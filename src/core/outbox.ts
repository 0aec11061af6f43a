import { PermanentSendError, RetryAfterError, type Channel, type OutboundFileKind } from '../../channels/channel.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { sleep } from '../time/sleep.js';
import { deliverySteps, parseOutboxLive, runDeliveryStep, type OutboxLive } from './live-delivery.js';
import { readOutboxFile, removeOutboxFile } from './outbox-files.js';

export interface OutboxEntry {
  group: string;
  channel: string;
  chatId: string;
  text: string;
  replyTo?: string;
  /** The thread or topic the conversation is in (InboundMessage.threadId). */
  threadId?: string;
  /** One reply per key, ever: a retried turn or a restart cannot send it twice. */
  dedupeKey: string;
  /** What a live reply already shows in the chat: delivery finishes those messages (live-delivery.ts). */
  live?: OutboxLive;
  /** A file to send with `text` as its caption: a host-owned copy (OutboxFiles), removed when the row is done. */
  file?: OutboxFile;
}

export interface OutboxFile {
  path: string;
  kind: OutboundFileKind;
  name: string;
  mime: string;
}

interface OutboxRow {
  id: number;
  channel: string;
  chat_id: string;
  text: string;
  reply_to: string | null;
  thread_id: string | null;
  chunks_sent: number;
  created_at: number;
  last_error: string | null;
  live: string | null;
  file_path: string | null;
  file_kind: OutboundFileKind | null;
  file_name: string | null;
  file_mime: string | null;
}

export interface OutboxTiming {
  /** Attempts of a reply in one delivery round; after them it waits for the next round. */
  sendAttempts: number;
  /** Backoff base between the attempts of one delivery. */
  retryDelayMs: number;
  /**
   * The longest wait a platform's "retry after" gets within a delivery round; a longer one pauses
   * the chat until then, and its replies go in a later round.
   */
  maxRetryAfterMs: number;
  /** After a delivery failed every attempt, the outbox is tried again this much later. */
  retryLaterMs: number;
  /** A reply still undelivered this long after it was written is given up (and logged). */
  giveUpAfterMs: number;
  /** One send that has not finished by then counts as failed, so a hung platform cannot hold a chat. */
  sendTimeoutMs: number;
}

export interface OutboxOptions extends Partial<OutboxTiming> {
  clock?: Clock;
  /** How the outbox waits between attempts (tests move a clock instead). */
  wait?: (ms: number) => Promise<void>;
}

const DEFAULT_TIMING: OutboxTiming = {
  sendAttempts: 3,
  retryDelayMs: 500,
  maxRetryAfterMs: 60_000,
  retryLaterMs: 30_000,
  giveUpAfterMs: 24 * 3600_000,
  sendTimeoutMs: 60_000,
};

type Delivery = 'sent' | 'given_up' | 'failed';

/** One platform call of a row: a chunk of text, or the file. */
type Part = () => Promise<void>;

/**
 * Replies are written here first, then delivered in order per chat, each chat on its own (a slow
 * or broken platform holds up only its own chats); undelivered rows survive a restart. Progress is
 * kept per chunk, so a reply cut off half-way resumes where it stopped.
 *
 * The only place a send is retried: adapters send once and say how it failed (channel.ts), and
 * the outbox gives up, waits out the platform's retry-after, or backs off.
 */
export class Outbox {
  /** The delivery running (or queued) for each chat; one at a time per chat, so nothing is sent twice. */
  private readonly chains = new Map<string, Promise<void>>();
  /**
   * Sends that outlived their deadline but may still succeed: their chat waits for them to settle
   * before anything else goes there, so a late success is neither repeated nor overtaken.
   */
  private readonly lingering = new Map<string, Promise<void>>();
  /** Chats a platform asked to wait for longer than maxRetryAfterMs: not before this time. */
  private readonly pausedUntil = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private closed = false;
  private readonly timing: OutboxTiming;
  private readonly clock: Clock;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(
    private readonly db: Db,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly log: Logger,
    options: OutboxOptions = {},
    /** Last line of defence: every reply passes it before it is stored (the host scrubs secret values). */
    private readonly scrub: (text: string) => string = (text) => text,
  ) {
    const { clock, wait, ...timing } = options;
    this.timing = { ...DEFAULT_TIMING, ...timing };
    this.clock = clock ?? systemClock;
    this.wait = wait ?? ((ms) => sleep(ms));
  }

  add(entry: OutboxEntry): void {
    this.db
      .prepare(
        `INSERT INTO outbox (group_name, channel, chat_id, text, reply_to, thread_id, dedupe_key, created_at, file_path, file_kind, file_name, file_mime, live)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .run(
        entry.group, entry.channel, entry.chatId, this.scrub(entry.text), entry.replyTo ?? null, entry.threadId ?? null, entry.dedupeKey, this.clock(),
        entry.file?.path ?? null, entry.file?.kind ?? null, entry.file?.name ?? null, entry.file?.mime ?? null, entry.live ? JSON.stringify(entry.live) : null,
      );
  }

  /** Delivers every unsent row, each chat in parallel with the others. */
  flush(): Promise<void> {
    const chats = this.db
      .prepare('SELECT DISTINCT channel, chat_id FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL')
      .all() as { channel: string; chat_id: string }[];
    return Promise.all(chats.map((c) => this.flushChat(c.channel, c.chat_id))).then(() => undefined);
  }

  /** Delivers the chat's unsent rows in order; resolves when they are sent or left for a later retry. */
  flushChat(channel: string, chatId: string): Promise<void> {
    const key = chatKey(channel, chatId);
    const previous = this.chains.get(key) ?? Promise.resolve();
    if (this.closed) return previous;
    const next = previous
      .then(() => this.deliverChat(channel, chatId))
      .catch((err: Error) => {
        this.log.error({ channel, chat: chatId, err: err.message }, 'outbox delivery failed; it is retried later');
        this.retryLater();
      });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  /** Waits for deliveries in progress; nothing is sent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await Promise.all([...this.chains.values()]);
  }

  unsentCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL').get() as { n: number }).n;
  }

  private async deliverChat(channel: string, chatId: string): Promise<void> {
    const key = chatKey(channel, chatId);
    if (this.lingering.has(key)) return;
    const paused = this.pauseLeft(key);
    if (paused > 0) return this.retryLater(paused);
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE channel = ? AND chat_id = ? AND sent_at IS NULL AND given_up_at IS NULL ORDER BY id')
      .all(channel, chatId) as OutboxRow[];
    for (const row of rows) {
      if (this.closed) return;
      // A failed row stops its chat, so the chat's replies stay in order.
      if ((await this.deliver(row)) === 'failed') return this.retryLater(Math.max(this.timing.retryLaterMs, this.pauseLeft(key)));
    }
  }

  private async deliver(row: OutboxRow): Promise<Delivery> {
    if (this.clock() - row.created_at > this.timing.giveUpAfterMs) {
      return this.giveUp(row, `undeliverable for too long; last error: ${row.last_error ?? 'none'}`);
    }
    const channel = this.channels.get(row.channel);
    if (!channel) {
      this.recordFailure(row.id, `channel "${row.channel}" is not running`);
      return 'failed';
    }
    const chunks = this.parts(row, channel);
    if (chunks.length === 0 && row.file_path !== null) return this.giveUp(row, `the file ${row.file_name ?? ''} to send is gone from the outbox folder`);
    let next = row.chunks_sent;
    for (let attempt = 1; next < chunks.length; ) {
      const sending = chunks[next]!();
      try {
        if ((await this.withinDeadline(sending)) === 'late') {
          this.linger(row, next, chunks.length, sending);
          this.recordFailure(row.id, `${channel.name} did not confirm the send within ${Math.round(this.timing.sendTimeoutMs / 1000)} s`);
          return 'failed';
        }
        next += 1;
        this.markChunkSent(row.id, next, chunks.length);
      } catch (err) {
        const reason = (err as Error).message;
        this.recordFailure(row.id, reason);
        if (err instanceof PermanentSendError) return this.giveUp(row, reason);
        const retryAfter = err instanceof RetryAfterError ? err.retryAfterMs : undefined;
        if (attempt >= this.timing.sendAttempts || this.closed || (retryAfter ?? 0) > this.timing.maxRetryAfterMs) {
          if (retryAfter !== undefined) this.pausedUntil.set(chatKey(row.channel, row.chat_id), this.clock() + retryAfter);
          this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply not delivered yet; it stays in the outbox and is retried later');
          return 'failed';
        }
        await this.wait(retryAfter ?? this.timing.retryDelayMs * 2 ** (attempt - 1));
        attempt += 1;
      }
    }
    this.db.prepare('UPDATE outbox SET sent_at = COALESCE(sent_at, ?) WHERE id = ?').run(this.clock(), row.id);
    if (row.file_path !== null) removeOutboxFile(row.file_path);
    return 'sent';
  }

  /**
   * The platform calls that deliver a row: its text in chunks; or its file, once, with the text as
   * caption; or, where the channel cannot send files, a notice saying so (with the caption). Empty
   * when the row's file is gone.
   */
  private parts(row: OutboxRow, channel: Channel): Part[] {
    const where = { chatId: row.chat_id, replyTo: row.reply_to ?? undefined, ...(row.thread_id !== null && { threadId: row.thread_id }) };
    let text = row.text;
    if (row.file_path !== null) {
      const name = row.file_name ?? 'file';
      if (channel.sendFile) {
        const data = readOutboxFile(row.file_path);
        if (!data) return [];
        const caption = row.text.slice(0, channel.maxMessageLength);
        const file = { ...where, kind: row.file_kind ?? 'document', name, mime: row.file_mime ?? 'application/octet-stream', data, ...(caption !== '' && { caption }) };
        return [() => channel.sendFile!(file)];
      }
      text = `(The assistant sent a file, ${name}, but files cannot be sent on ${channel.name}.)${row.text ? `\n${row.text}` : ''}`;
    }
    // A reply shown live finishes its live messages (live-delivery.ts); empty when blocks already sent it all.
    const live = row.file_path === null ? parseOutboxLive(row.live) : undefined;
    return deliverySteps(text, live, channel.maxMessageLength, channel.editMessage !== undefined).map((step) => () => runDeliveryStep(channel, step, where));
  }

  /** How long the platform still wants this chat left alone (0 when it does not). */
  private pauseLeft(key: string): number {
    const until = this.pausedUntil.get(key);
    if (until === undefined) return 0;
    const left = until - this.clock();
    if (left <= 0) this.pausedUntil.delete(key);
    return Math.max(0, left);
  }

  private markChunkSent(id: number, chunksSent: number, total: number): void {
    this.db
      .prepare('UPDATE outbox SET chunks_sent = MAX(chunks_sent, @n), sent_at = CASE WHEN @n >= @total THEN @now ELSE sent_at END, attempts = attempts + 1 WHERE id = @id')
      .run({ id, n: chunksSent, total, now: this.clock() });
  }

  /** 'late' when the send has not settled by the deadline; a rejection passes through. */
  private async withinDeadline(sending: Promise<void>): Promise<'done' | 'late'> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.timing.sendTimeoutMs);
    });
    try {
      return await Promise.race([sending.then(() => 'done' as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Holds the chat until a late send settles: counted if it went through, retried if it failed. */
  private linger(row: OutboxRow, chunk: number, total: number, sending: Promise<void>): void {
    const key = chatKey(row.channel, row.chat_id);
    const settled = sending
      .then(
        () => {
          this.markChunkSent(row.id, chunk + 1, total);
          if (row.file_path !== null && chunk + 1 >= total) removeOutboxFile(row.file_path);
        },
        (err: Error) => this.recordFailure(row.id, err.message),
      )
      // Nobody awaits this: a failed write (a full disk) is logged, never left to crash the host.
      .catch((err: Error) => this.log.error({ outbox: row.id, err: err.message }, 'could not record a late send'));
    this.lingering.set(key, settled);
    void settled.then(() => {
      this.lingering.delete(key);
      if (!this.closed) void this.flushChat(row.channel, row.chat_id);
    });
  }

  private giveUp(row: OutboxRow, reason: string): Delivery {
    this.db.prepare('UPDATE outbox SET given_up_at = ? WHERE id = ?').run(this.clock(), row.id);
    if (row.file_path !== null) removeOutboxFile(row.file_path);
    this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply given up');
    return 'given_up';
  }

  /** Flushes again after delayMs, or sooner when a retry is already due earlier. */
  private retryLater(delayMs = this.timing.retryLaterMs): void {
    if (this.closed) return;
    const at = this.clock() + delayMs;
    if (this.retryTimer && this.retryAt <= at) return;
    clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, delayMs);
    this.retryTimer.unref();
  }

  private recordFailure(id: number, reason: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(reason, id);
  }
}

function chatKey(channel: string, chatId: string): string {
  return `${channel}\u0000${chatId}`;
}

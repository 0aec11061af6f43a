import { splitMessage } from '../../channels/chunk.js';
import type { Channel } from '../../channels/channel.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';

export interface OutboxEntry {
  group: string;
  channel: string;
  chatId: string;
  text: string;
  replyTo?: string;
  /** One reply per key, ever: a retried turn or a restart cannot send it twice. */
  dedupeKey: string;
}

interface OutboxRow {
  id: number;
  channel: string;
  chat_id: string;
  text: string;
  reply_to: string | null;
  chunks_sent: number;
  created_at: number;
}

export interface OutboxTiming {
  /** Backoff base between the attempts of one delivery. */
  retryDelayMs: number;
  /** After a delivery failed every attempt, the outbox is tried again this much later. */
  retryLaterMs: number;
  /** A reply still undelivered this long after it was written is given up (and logged). */
  giveUpAfterMs: number;
}

const SEND_ATTEMPTS = 3;
const DEFAULT_TIMING: OutboxTiming = { retryDelayMs: 500, retryLaterMs: 30_000, giveUpAfterMs: 24 * 3600_000 };

/**
 * Replies are written here first, then delivered in order per chat; undelivered rows survive a
 * restart. Progress is kept per chunk, so a reply cut off half-way resumes where it stopped.
 */
export class Outbox {
  private flushing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly timing: OutboxTiming;

  constructor(
    private readonly db: Db,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly log: Logger,
    timing: Partial<OutboxTiming> = {},
    /** Last line of defence: every reply passes it before it is stored (the host scrubs secret values). */
    private readonly scrub: (text: string) => string = (text) => text,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
  }

  add(entry: OutboxEntry): void {
    this.db
      .prepare(
        `INSERT INTO outbox (group_name, channel, chat_id, text, reply_to, dedupe_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .run(entry.group, entry.channel, entry.chatId, this.scrub(entry.text), entry.replyTo ?? null, entry.dedupeKey, Date.now());
  }

  /** Delivers every unsent row. Calls are serialised so nothing is sent twice; one failure never blocks later flushes. */
  flush(): Promise<void> {
    if (this.closed) return this.flushing;
    this.flushing = this.flushing.then(() => this.deliverAll()).catch((err: Error) => {
      this.log.error({ err: err.message }, 'outbox delivery failed; it is retried later');
      this.retryLater();
    });
    return this.flushing;
  }

  /** Waits for deliveries in progress; nothing is sent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.flushing;
  }

  unsentCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL').get() as { n: number }).n;
  }

  private async deliverAll(): Promise<void> {
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL ORDER BY id')
      .all() as OutboxRow[];
    const blockedChats = new Set<string>();
    for (const row of rows) {
      const chat = `${row.channel}:${row.chat_id}`;
      if (blockedChats.has(chat)) continue; // keep each chat's replies in order
      if (!(await this.deliver(row))) blockedChats.add(chat);
    }
    if (blockedChats.size > 0) this.retryLater();
  }

  private async deliver(row: OutboxRow): Promise<boolean> {
    if (Date.now() - row.created_at > this.timing.giveUpAfterMs) {
      this.db.prepare('UPDATE outbox SET given_up_at = ? WHERE id = ?').run(Date.now(), row.id);
      this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id }, 'reply given up: undeliverable for too long');
      return true;
    }
    const channel = this.channels.get(row.channel);
    if (!channel) {
      this.recordFailure(row.id, `channel "${row.channel}" is not running`);
      return false;
    }
    const chunks = splitMessage(row.text, channel.maxMessageLength);
    let next = row.chunks_sent;
    for (let attempt = 1; next < chunks.length; ) {
      try {
        await channel.send({ chatId: row.chat_id, text: chunks[next]!, replyTo: row.reply_to ?? undefined });
        next += 1;
        this.db.prepare('UPDATE outbox SET chunks_sent = ? WHERE id = ?').run(next, row.id);
      } catch (err) {
        const reason = (err as Error).message;
        this.recordFailure(row.id, reason);
        if (attempt >= SEND_ATTEMPTS) {
          this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply not delivered yet; it stays in the outbox and is retried later');
          return false;
        }
        await new Promise((r) => setTimeout(r, this.timing.retryDelayMs * 2 ** (attempt - 1)));
        attempt += 1;
      }
    }
    this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?').run(Date.now(), row.id);
    return true;
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.timing.retryLaterMs);
    this.retryTimer.unref();
  }

  private recordFailure(id: number, reason: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(reason, id);
  }
}

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
  attempts: number;
}

const SEND_ATTEMPTS = 3;

/** Replies are written here first, then delivered; undelivered rows survive a restart. */
export class Outbox {
  private flushing: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly log: Logger,
    private readonly retryDelayMs = 500,
    /** After a reply failed every attempt, the whole outbox is tried again this much later. */
    private readonly retryLaterMs = 30_000,
  ) {}

  add(entry: OutboxEntry): void {
    this.db
      .prepare(
        `INSERT INTO outbox (group_name, channel, chat_id, text, reply_to, dedupe_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
      )
      .run(entry.group, entry.channel, entry.chatId, entry.text, entry.replyTo ?? null, entry.dedupeKey, Date.now());
  }

  /** Delivers every unsent row, oldest first. Calls are serialised so nothing is sent twice. */
  flush(): Promise<void> {
    if (this.closed) return this.flushing;
    this.flushing = this.flushing.then(() => this.deliverAll());
    return this.flushing;
  }

  /** Waits for deliveries in progress; nothing is sent afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.flushing;
  }

  unsentCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL').get() as { n: number }).n;
  }

  private async deliverAll(): Promise<void> {
    const rows = this.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id').all() as OutboxRow[];
    for (const row of rows) await this.deliver(row);
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const channel = this.channels.get(row.channel);
    if (!channel) {
      this.recordFailure(row.id, `channel "${row.channel}" is not running`);
      return;
    }
    const chunks = splitMessage(row.text, channel.maxMessageLength);
    for (let attempt = 1; ; attempt++) {
      try {
        for (const text of chunks) {
          await channel.send({ chatId: row.chat_id, text, replyTo: row.reply_to ?? undefined });
        }
        this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?').run(Date.now(), row.id);
        return;
      } catch (err) {
        const reason = (err as Error).message;
        this.recordFailure(row.id, reason);
        if (attempt >= SEND_ATTEMPTS) {
          this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply not delivered; it stays in the outbox and is retried later');
          this.retryLater();
          return;
        }
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.retryLaterMs);
    this.retryTimer.unref();
  }

  private recordFailure(id: number, reason: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?').run(reason, id);
  }
}

import { splitMessage } from '../../channels/chunk.js';
import { PermanentSendError, type Channel, type OutboundMessage } from '../../channels/channel.js';
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
  last_error: string | null;
}

export interface OutboxTiming {
  /** Backoff base between the attempts of one delivery. */
  retryDelayMs: number;
  /** After a delivery failed every attempt, the outbox is tried again this much later. */
  retryLaterMs: number;
  /** A reply still undelivered this long after it was written is given up (and logged). */
  giveUpAfterMs: number;
  /** One send that has not finished by then counts as failed, so a hung platform cannot hold a chat. */
  sendTimeoutMs: number;
}

const SEND_ATTEMPTS = 3;
const DEFAULT_TIMING: OutboxTiming = { retryDelayMs: 500, retryLaterMs: 30_000, giveUpAfterMs: 24 * 3600_000, sendTimeoutMs: 60_000 };

type Delivery = 'sent' | 'given_up' | 'failed';

/**
 * Replies are written here first, then delivered in order per chat, each chat on its own (a slow
 * or broken platform holds up only its own chats); undelivered rows survive a restart. Progress is
 * kept per chunk, so a reply cut off half-way resumes where it stopped.
 */
export class Outbox {
  /** The delivery running (or queued) for each chat; one at a time per chat, so nothing is sent twice. */
  private readonly chains = new Map<string, Promise<void>>();
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

  /** Delivers every unsent row, each chat in parallel with the others. */
  flush(): Promise<void> {
    const chats = this.db
      .prepare('SELECT DISTINCT channel, chat_id FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL')
      .all() as { channel: string; chat_id: string }[];
    return Promise.all(chats.map((c) => this.flushChat(c.channel, c.chat_id))).then(() => undefined);
  }

  /** Delivers the chat's unsent rows in order; resolves when they are sent or left for a later retry. */
  flushChat(channel: string, chatId: string): Promise<void> {
    const key = `${channel}\u0000${chatId}`;
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
    const rows = this.db
      .prepare('SELECT * FROM outbox WHERE channel = ? AND chat_id = ? AND sent_at IS NULL AND given_up_at IS NULL ORDER BY id')
      .all(channel, chatId) as OutboxRow[];
    for (const row of rows) {
      if (this.closed) return;
      // A failed row stops its chat, so the chat's replies stay in order.
      if ((await this.deliver(row)) === 'failed') return this.retryLater();
    }
  }

  private async deliver(row: OutboxRow): Promise<Delivery> {
    if (Date.now() - row.created_at > this.timing.giveUpAfterMs) {
      return this.giveUp(row, `undeliverable for too long; last error: ${row.last_error ?? 'none'}`);
    }
    const channel = this.channels.get(row.channel);
    if (!channel) {
      this.recordFailure(row.id, `channel "${row.channel}" is not running`);
      return 'failed';
    }
    const chunks = splitMessage(row.text, channel.maxMessageLength);
    let next = row.chunks_sent;
    for (let attempt = 1; next < chunks.length; ) {
      try {
        await this.sendWithDeadline(channel, { chatId: row.chat_id, text: chunks[next]!, replyTo: row.reply_to ?? undefined });
        next += 1;
        this.db.prepare('UPDATE outbox SET chunks_sent = ? WHERE id = ?').run(next, row.id);
      } catch (err) {
        const reason = (err as Error).message;
        this.recordFailure(row.id, reason);
        if (err instanceof PermanentSendError) return this.giveUp(row, reason);
        if (attempt >= SEND_ATTEMPTS) {
          this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply not delivered yet; it stays in the outbox and is retried later');
          return 'failed';
        }
        await new Promise((r) => setTimeout(r, this.timing.retryDelayMs * 2 ** (attempt - 1)));
        attempt += 1;
      }
    }
    this.db.prepare('UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?').run(Date.now(), row.id);
    return 'sent';
  }

  private async sendWithDeadline(channel: Channel, msg: OutboundMessage): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${channel.name} did not confirm the send within ${Math.round(this.timing.sendTimeoutMs / 1000)} s`)), this.timing.sendTimeoutMs);
    });
    try {
      await Promise.race([channel.send(msg), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private giveUp(row: OutboxRow, reason: string): Delivery {
    this.db.prepare('UPDATE outbox SET given_up_at = ? WHERE id = ?').run(Date.now(), row.id);
    this.log.error({ outbox: row.id, channel: row.channel, chat: row.chat_id, reason }, 'reply given up');
    return 'given_up';
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

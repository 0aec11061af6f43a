import type { InboundMessage } from '../../channels/channel.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';

export interface SeenChat {
  channel: string;
  chatId: string;
  title?: string;
  isDirect: boolean;
  firstSeenAt: number;
  lastSeenAt: number;
  messages: number;
}

/** Every chat the bot has heard from, so `enclave chats` can list the ones not mapped to a group. */
export class SeenChats {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  record(msg: InboundMessage, now = this.clock()): void {
    this.db
      .prepare(
        `INSERT INTO seen_chats (channel, chat_id, title, is_direct, first_seen_at, last_seen_at, messages) VALUES (?, ?, ?, ?, ?, ?, 1)
         ON CONFLICT (channel, chat_id) DO UPDATE SET title = COALESCE(excluded.title, seen_chats.title), last_seen_at = excluded.last_seen_at, messages = seen_chats.messages + 1`,
      )
      .run(msg.channel, msg.chatId, msg.chatTitle ?? null, msg.isDirect ? 1 : 0, now, now);
  }

  all(): SeenChat[] {
    return this.db
      .prepare<[], { channel: string; chat_id: string; title: string | null; is_direct: number; first_seen_at: number; last_seen_at: number; messages: number }>(
        'SELECT * FROM seen_chats ORDER BY last_seen_at DESC',
      )
      .all()
      .map((r) => ({
        channel: r.channel,
        chatId: r.chat_id,
        title: r.title ?? undefined,
        isDirect: r.is_direct === 1,
        firstSeenAt: r.first_seen_at,
        lastSeenAt: r.last_seen_at,
        messages: r.messages,
      }));
  }
}

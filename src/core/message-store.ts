import type { InboundAttachment, InboundMessage, InboundStatus } from '../../channels/channel.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';

export type MessageStatus = InboundStatus | 'in_turn' | 'answered' | 'failed';

export interface StoredMessage
  extends Pick<InboundMessage, 'channel' | 'chatId' | 'platformId' | 'senderId' | 'senderName' | 'text' | 'isDirect' | 'threadId' | 'attachments'> {
  id: number;
  groupName: string | null;
}

interface MessageRow {
  id: number;
  channel: string;
  chat_id: string;
  platform_id: string;
  sender_id: string;
  sender_name: string;
  text: string;
  group_name: string | null;
  is_direct: number;
  thread_id: string | null;
  attachments: string | null;
}

/** Inbound messages: stored first, deduplicated by (channel, chat, platform id). */
export class MessageStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Returns the new row id, or undefined when this message was already stored (a redelivery). */
  insert(msg: InboundMessage, groupName: string | undefined, status: MessageStatus): number | undefined {
    const info = this.db
      .prepare(
        `INSERT INTO messages (channel, chat_id, platform_id, sender_id, sender_name, text, reply_to, sent_at,
           received_at, group_name, status, is_direct, thread_id, attachments)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, chat_id, platform_id) DO NOTHING`,
      )
      .run(
        msg.channel, msg.chatId, msg.platformId, msg.senderId, msg.senderName, msg.text, msg.replyTo ?? null,
        msg.timestamp, this.clock(), groupName ?? null, status, msg.isDirect ? 1 : 0, msg.threadId ?? null,
        msg.attachments && msg.attachments.length > 0 ? JSON.stringify(msg.attachments) : null,
      );
    return info.changes === 1 ? Number(info.lastInsertRowid) : undefined;
  }

  /** A stored message's id and status, by its platform identity. */
  find(channel: string, chatId: string, platformId: string): { id: number; status: MessageStatus } | undefined {
    return this.db
      .prepare<[string, string, string], { id: number; status: MessageStatus }>('SELECT id, status FROM messages WHERE channel = ? AND chat_id = ? AND platform_id = ?')
      .get(channel, chatId, platformId);
  }

  /**
   * Moves the queued messages of the group's oldest waiting chat into the turn about to run,
   * oldest first. A group mapped to several chats answers each chat in its own turn.
   */
  claimQueued(groupName: string): StoredMessage[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM messages WHERE group_name = ? AND status = 'queued' AND (channel, chat_id) = (
             SELECT channel, chat_id FROM messages WHERE group_name = ? AND status = 'queued' ORDER BY id LIMIT 1)
           ORDER BY id`,
        )
        .all(groupName, groupName) as MessageRow[];
      const mark = this.db.prepare(`UPDATE messages SET status = 'in_turn' WHERE id = ?`);
      for (const r of rows) mark.run(r.id);
      return rows.map(toStored);
    })();
  }

  finish(ids: readonly number[], status: 'answered' | 'failed'): void {
    const stmt = this.db.prepare('UPDATE messages SET status = ? WHERE id = ?');
    for (const id of ids) stmt.run(status, id);
  }

  /** After a crash or stop mid-turn: those messages go back in the queue. Returns their groups. */
  requeueInterrupted(): string[] {
    this.db.prepare(`UPDATE messages SET status = 'queued' WHERE status = 'in_turn'`).run();
    const rows = this.db
      .prepare(`SELECT DISTINCT group_name AS g FROM messages WHERE status = 'queued' AND group_name IS NOT NULL`)
      .all() as { g: string }[];
    return rows.map((r) => r.g);
  }

  /** Messages waiting for a turn or in one. */
  countPending(groupName: string): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM messages WHERE group_name = ? AND status IN ('queued', 'in_turn')`)
      .get(groupName) as { n: number };
    return row.n;
  }

  /** The messages waiting for a turn or in one, and their chats: read-only, so it works on a full disk. */
  pending(groupName: string): { id: number; channel: string; chatId: string; threadId?: string }[] {
    const rows = this.db
      .prepare(`SELECT id, channel, chat_id, thread_id FROM messages WHERE group_name = ? AND status IN ('queued', 'in_turn') ORDER BY id`)
      .all(groupName) as { id: number; channel: string; chat_id: string; thread_id: string | null }[];
    return rows.map((r) => ({ id: r.id, channel: r.channel, chatId: r.chat_id, ...(r.thread_id !== null && { threadId: r.thread_id }) }));
  }

  hasQueued(groupName: string): boolean {
    return this.db.prepare(`SELECT 1 FROM messages WHERE group_name = ? AND status = 'queued' LIMIT 1`).get(groupName) !== undefined;
  }
}

function toStored(r: MessageRow): StoredMessage {
  return {
    id: r.id,
    channel: r.channel,
    chatId: r.chat_id,
    platformId: r.platform_id,
    senderId: r.sender_id,
    senderName: r.sender_name,
    text: r.text,
    isDirect: r.is_direct === 1,
    groupName: r.group_name,
    ...(r.thread_id !== null && { threadId: r.thread_id }),
    ...(r.attachments !== null && { attachments: parseAttachments(r.attachments) }),
  };
}

function parseAttachments(json: string): InboundAttachment[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? (parsed as InboundAttachment[]) : [];
  } catch {
    return [];
  }
}

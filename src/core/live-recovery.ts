import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Outbox } from './outbox.js';
import { LIVE_INTERRUPTED_TEXT } from './replies.js';

interface LiveRow {
  turn_id: string;
  group_name: string;
  channel: string;
  chat_id: string;
  thread_id: string | null;
  mode: string;
  message_id: string;
}

/**
 * At start: live messages of turns the last run never finished (it crashed or stopped mid-answer)
 * are marked interrupted through the outbox: edited where they were edits, one notice where
 * they were blocks. The turn itself runs again and its full answer follows. Returns the turns.
 */
export function markInterruptedLiveReplies(db: Db, outbox: Outbox, log: Logger): number {
  const rows = db.prepare('SELECT turn_id, group_name, channel, chat_id, thread_id, mode, message_id FROM live_messages ORDER BY id').all() as LiveRow[];
  const turns = new Map<string, LiveRow[]>();
  for (const row of rows) turns.set(row.turn_id, [...(turns.get(row.turn_id) ?? []), row]);
  db.transaction(() => {
    for (const [turnId, messages] of turns) {
      const first = messages[0]!;
      outbox.add({
        group: first.group_name,
        channel: first.channel,
        chatId: first.chat_id,
        ...(first.thread_id !== null && { threadId: first.thread_id }),
        text: LIVE_INTERRUPTED_TEXT,
        dedupeKey: `live-interrupted:${turnId}`,
        ...(first.mode === 'edit' && { live: { edit: messages.map((m) => m.message_id) } }),
      });
    }
    db.prepare('DELETE FROM live_messages').run();
  })();
  if (turns.size > 0) log.info({ turns: turns.size }, 'live replies cut off by the last shutdown are marked interrupted');
  return turns.size;
}

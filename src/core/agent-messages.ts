import type { ToolResponse } from '../../container/agent/protocol.js';
import type { ActiveTurns } from './active-turns.js';
import type { Outbox, OutboxFile } from './outbox.js';

/** The agent's send_message: only ever to the chat its own running turn came from. */
export function sendFromAgent(turns: ActiveTurns, outbox: Outbox, group: string, turnId: string, text: string): ToolResponse {
  const turn = turns.get(group, turnId);
  if (!turn) return { ok: false, error: 'no turn of this group is in progress' };
  if (!turn.channel) return { ok: false, error: 'this turn works for another agent and has no chat to send to; your final answer goes back to that agent' };
  turn.sent += 1;
  outbox.add({ group, channel: turn.channel, chatId: turn.chatId, threadId: turn.threadId, text, dedupeKey: `turn:${turnId}:msg:${turn.sent}` });
  void outbox.flushChat(turn.channel, turn.chatId);
  return { ok: true };
}

/** The agent's send_file: the staged copy goes to its own turn's chat, counted with its messages. */
export function sendFileFromAgent(turns: ActiveTurns, outbox: Outbox, group: string, turnId: string, file: OutboxFile, caption: string): ToolResponse {
  const turn = turns.get(group, turnId);
  if (!turn) return { ok: false, error: 'no turn of this group is in progress' };
  if (!turn.channel) return { ok: false, error: 'this turn works for another agent and has no chat to send a file to; describe the file in your final answer instead' };
  turn.sent += 1;
  outbox.add({ group, channel: turn.channel, chatId: turn.chatId, threadId: turn.threadId, text: caption, file, dedupeKey: `turn:${turnId}:msg:${turn.sent}` });
  void outbox.flushChat(turn.channel, turn.chatId);
  return { ok: true };
}

import type { InboundMessage } from '../../channels/channel.js';
import { formatChatRef } from '../../channels/chat-ref.js';
import { groupHasChat, type Config } from '../config/load.js';
import type { TaskRunOutcome } from '../scheduler/scheduler.js';
import type { Task } from '../scheduler/task-store.js';
import type { GroupQueue } from './group-queue.js';
import type { MessageStore } from './message-store.js';
import type { SettleWaiters } from './settle-waiters.js';

export interface ScheduledTurnDeps {
  store: MessageStore;
  waiters: SettleWaiters;
  queue: GroupQueue;
  /** True once the host is shutting down: a turn cut off then is not a failure. */
  stopping: () => boolean;
  clock: () => number;
}

/**
 * A due task becomes a message in its chat, queued like any other: the group queue serialises it
 * with the chat's own messages, the turn's cost goes through the ledger, and the answer goes out
 * through the outbox. The message id is the task and its slot, so a run repeated after a restart
 * waits for the stored one instead of running twice.
 */
export function scheduledTurnRunner(deps: ScheduledTurnDeps): (task: Task) => Promise<TaskRunOutcome> {
  return async (task) => {
    const slot = task.nextRunAt ?? deps.clock();
    const msg: InboundMessage = {
      channel: task.channel,
      chatId: task.chatId,
      threadId: task.threadId,
      platformId: `task:${task.id}:${slot}`,
      senderId: 'enclave-scheduler',
      senderName: `Scheduled task #${task.id}`,
      text: task.prompt,
      isDirect: false,
      mentionsBot: true,
      replyToBot: false,
      mentions: [],
      fromBot: false,
      timestamp: slot,
    };
    let id = deps.store.insert(msg, task.group, 'queued');
    if (id === undefined) {
      const existing = deps.store.find(msg.channel, msg.chatId, msg.platformId);
      if (!existing) return { ok: false, error: 'the task message could not be stored' };
      if (existing.status === 'answered') return { ok: true };
      if (existing.status !== 'queued' && existing.status !== 'in_turn') return { ok: false, error: 'the turn failed' };
      id = existing.id;
    }
    const settled = deps.waiters.wait(id);
    deps.queue.enqueue(task.group);
    const outcome = await settled;
    if (outcome === 'answered') return { ok: true };
    if (deps.stopping()) return { ok: false, interrupted: true };
    return { ok: false, error: 'the turn failed (the chat got the reason)' };
  };
}

/** The host re-checks at every run that the task's chat still belongs to its group; a reason when not. */
export function taskChatCheck(config: () => Config): (task: Task) => string | undefined {
  return (task) =>
    groupHasChat(config(), task.group, task) ? undefined : `the chat ${formatChatRef(task)} no longer belongs to group ${task.group}`;
}

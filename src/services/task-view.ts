import { formatChatRef } from '../../channels/chat-ref.js';
import type { TaskView } from '../../container/agent/host-tool-contract.js';
import { describeSchedule, formatLocalTime } from '../scheduler/schedule.js';
import type { Task } from '../scheduler/task-store.js';

/** A task as the agent, `enclave tasks list --json` and the dashboard see it; the shape is the host-tool contract's. */
export type { TaskView };

export function taskView(task: Task): TaskView {
  return {
    id: task.id,
    prompt: task.prompt,
    schedule: describeSchedule(task),
    timezone: task.timezone,
    status: task.status,
    chat: formatChatRef(task),
    nextRunAt: task.nextRunAt === null ? null : new Date(task.nextRunAt).toISOString(),
    nextRunLocal: task.nextRunAt === null ? null : formatLocalTime(task.nextRunAt, task.timezone),
    lastRunAt: task.lastRunAt === null ? null : new Date(task.lastRunAt).toISOString(),
    lastResult: task.lastResult,
    failures: task.failures,
  };
}

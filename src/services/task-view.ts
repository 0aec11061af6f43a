import { formatChatRef } from '../../channels/chat-ref.js';
import { describeSchedule, formatLocalTime } from '../scheduler/schedule.js';
import type { Task } from '../scheduler/task-store.js';

/** A task as the agent, `enclave tasks list --json` and (soon) the dashboard see it. */
export interface TaskView {
  id: number;
  prompt: string;
  schedule: string;
  timezone: string;
  status: Task['status'];
  chat: string;
  /** ISO 8601 UTC, and the same in the task's time zone. */
  nextRunAt: string | null;
  nextRunLocal: string | null;
  lastRunAt: string | null;
  lastResult: string | null;
  failures: number;
}

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

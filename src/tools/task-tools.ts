import { z } from 'zod';
import { formatChatRef } from '../../channels/chat-ref.js';
import { MAX_TASK_PROMPT_CHARS, type TaskView } from '../../container/agent/host-tool-contract.js';
import type { Clock } from '../clock.js';
import { describeSchedule, formatLocalTime, parseSchedule, ScheduleError } from '../scheduler/schedule.js';
import { TaskLimitError, type Task, type TaskStore } from '../scheduler/task-store.js';
import type { HostTool, ToolCall } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';

export type { TaskView };

export interface TaskToolsDeps {
  store: TaskStore;
  clock: Clock;
  /** Called after a task was added or cancelled (the scheduler's wake). */
  onChange?: () => void;
}

const optionalText = z.string().max(200).nullish();
const scheduleArgs = z.strictObject({
  prompt: z
    .string({ error: 'prompt must be a string' })
    .trim()
    .min(1, 'prompt is empty')
    .max(MAX_TASK_PROMPT_CHARS, `prompt is longer than ${MAX_TASK_PROMPT_CHARS} characters`),
  cron: optionalText,
  every: optionalText,
  at: optionalText,
});
const listArgs = z.strictObject({});
const cancelArgs = z.strictObject({
  id: z.union(
    [
      z.number().int().positive(),
      z.string().regex(/^#?\d{1,12}$/).transform((s) => Number(s.replace('#', ''))),
    ],
    { error: 'id must be a task number, as list_tasks shows it' },
  ),
});

/**
 * schedule_task, list_tasks and cancel_task. The group and chat are the caller's, never named in
 * the arguments; another group's task is reported as not existing.
 */
export function taskTools(deps: TaskToolsDeps): HostTool[] {
  return [
    { name: 'schedule_task', perform: (call) => schedule(deps, call, parseArgs(scheduleArgs, call.args)) },
    {
      name: 'list_tasks',
      perform: (call) => {
        parseArgs(listArgs, call.args);
        return { result: { tasks: deps.store.list(call.group.name).map(taskView) } };
      },
    },
    { name: 'cancel_task', perform: (call) => cancel(deps, call, parseArgs(cancelArgs, call.args).id) },
  ];
}

function schedule(deps: TaskToolsDeps, call: ToolCall, args: z.infer<typeof scheduleArgs>) {
  const { name, timezone } = call.group;
  let parsed;
  try {
    parsed = parseSchedule({ cron: args.cron ?? undefined, every: args.every ?? undefined, at: args.at ?? undefined }, timezone, deps.clock());
  } catch (err) {
    if (err instanceof ScheduleError) throw new ToolRefusal(err.message, 'invalid');
    throw err;
  }
  let task: Task;
  try {
    task = deps.store.create({
      group: name,
      channel: call.channel,
      chatId: call.chatId,
      prompt: args.prompt,
      kind: parsed.kind,
      spec: parsed.spec,
      timezone,
      nextRunAt: parsed.firstRunAt,
      createdBy: `agent:${name}`,
    });
  } catch (err) {
    if (err instanceof TaskLimitError) throw new ToolRefusal(err.message, 'refused');
    throw err;
  }
  deps.onChange?.();
  return { result: { task: taskView(task) }, audit: { task: task.id } };
}

function cancel(deps: TaskToolsDeps, call: ToolCall, id: number) {
  const group = call.group.name;
  const task = deps.store.get(id);
  if (!task) throw new ToolRefusal(`no such task: ${id}`, 'not_found');
  if (task.group !== group) throw new ToolRefusal(`no such task: ${id}`, 'denied');
  if (!deps.store.cancel(id, `agent:${group}`)) throw new ToolRefusal(`task ${id} has already ended (${task.status})`, 'refused');
  deps.onChange?.();
  return { result: { task: taskView(deps.store.get(id)!) }, audit: { task: id } };
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

function parseArgs<T extends z.ZodType>(schema: T, args: unknown): z.infer<T> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  throw new ToolRefusal(`invalid arguments: ${problems.join('; ')}`, 'invalid');
}

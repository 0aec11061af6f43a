import { z } from 'zod';
import { MAX_TASK_PROMPT_CHARS, TASK_TOOL_NAMES, type TaskToolName } from '../../container/agent/task-tool-schemas.js';
import type { HostToolResponse } from '../../container/agent/protocol.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import { describeSchedule, formatLocalTime, parseSchedule, ScheduleError } from './schedule.js';
import { TaskLimitError, type Task, type TaskStore } from './task-store.js';

/** Who is calling, as the host knows it: the group of the socket the call came in on, and the chat of its turn. */
export interface TaskToolCaller {
  group: Pick<GroupConfig, 'name' | 'timezone' | 'tools'>;
  channel: string;
  chatId: string;
}

/** A task as the agent (and `enclave tasks list --json`) sees it. */
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

/** The HostToolResponse the runner passes on to the model: `result` holds the task or the list. */
export interface TaskToolResult extends HostToolResponse {
  result?: { task: TaskView } | { tasks: TaskView[] };
}

export interface TaskToolsDeps {
  store: TaskStore;
  clock: Clock;
  audit: AuditSink;
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

/** An expected refusal: its message goes back to the agent. */
class Refusal extends Error {
  constructor(
    message: string,
    readonly outcome: 'invalid' | 'refused' | 'not_found' | 'denied',
  ) {
    super(message);
  }
}

/**
 * The host side of schedule_task, list_tasks and cancel_task. The group is the caller's,
 * never one named in the arguments; another group's task is reported as not existing.
 */
export class TaskTools {
  constructor(private readonly deps: TaskToolsDeps) {}

  handle(tool: string, caller: TaskToolCaller, args: unknown): TaskToolResult {
    const group = caller.group.name;
    let response: TaskToolResult;
    let audited: Record<string, unknown>;
    try {
      if (!isTaskTool(tool)) throw new Refusal(`unknown tool "${tool}"`, 'invalid');
      if (!caller.group.tools.includes(tool)) throw new Refusal(`the tool ${tool} is not enabled for this group`, 'refused');
      response = this.perform(tool, caller, args);
      audited = { outcome: 'ok', ...(response.result && 'task' in response.result ? { task: response.result.task.id } : {}) };
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      response = { ok: false, error: err.message };
      audited = { outcome: err.outcome, error: err.message };
    }
    this.deps.audit.append({ kind: 'tool_call', group, actor: `agent:${group}`, detail: { tool, ...audited } });
    return response;
  }

  private perform(tool: TaskToolName, caller: TaskToolCaller, args: unknown): TaskToolResult {
    if (tool === 'schedule_task') return this.schedule(caller, parseArgs(scheduleArgs, args));
    if (tool === 'list_tasks') {
      parseArgs(listArgs, args);
      return { ok: true, result: { tasks: this.deps.store.list(caller.group.name).map(taskView) } };
    }
    return this.cancel(caller, parseArgs(cancelArgs, args).id);
  }

  private schedule(caller: TaskToolCaller, args: z.infer<typeof scheduleArgs>): TaskToolResult {
    const { name, timezone } = caller.group;
    let parsed;
    try {
      parsed = parseSchedule({ cron: args.cron ?? undefined, every: args.every ?? undefined, at: args.at ?? undefined }, timezone, this.deps.clock());
    } catch (err) {
      if (err instanceof ScheduleError) throw new Refusal(err.message, 'invalid');
      throw err;
    }
    let task: Task;
    try {
      task = this.deps.store.create({
        group: name,
        channel: caller.channel,
        chatId: caller.chatId,
        prompt: args.prompt,
        kind: parsed.kind,
        spec: parsed.spec,
        timezone,
        nextRunAt: parsed.firstRunAt,
        createdBy: `agent:${name}`,
      });
    } catch (err) {
      if (err instanceof TaskLimitError) throw new Refusal(err.message, 'refused');
      throw err;
    }
    this.deps.onChange?.();
    return { ok: true, result: { task: taskView(task) } };
  }

  private cancel(caller: TaskToolCaller, id: number): TaskToolResult {
    const group = caller.group.name;
    const task = this.deps.store.get(id);
    if (!task) throw new Refusal(`no such task: ${id}`, 'not_found');
    if (task.group !== group) throw new Refusal(`no such task: ${id}`, 'denied');
    if (!this.deps.store.cancel(id, `agent:${group}`)) throw new Refusal(`task ${id} has already ended (${task.status})`, 'refused');
    this.deps.onChange?.();
    return { ok: true, result: { task: taskView(this.deps.store.get(id)!) } };
  }
}

export function taskView(task: Task): TaskView {
  return {
    id: task.id,
    prompt: task.prompt,
    schedule: describeSchedule(task),
    timezone: task.timezone,
    status: task.status,
    chat: `${task.channel}:${task.chatId}`,
    nextRunAt: task.nextRunAt === null ? null : new Date(task.nextRunAt).toISOString(),
    nextRunLocal: task.nextRunAt === null ? null : formatLocalTime(task.nextRunAt, task.timezone),
    lastRunAt: task.lastRunAt === null ? null : new Date(task.lastRunAt).toISOString(),
    lastResult: task.lastResult,
    failures: task.failures,
  };
}

function isTaskTool(name: string): name is TaskToolName {
  return (TASK_TOOL_NAMES as readonly string[]).includes(name);
}

function parseArgs<T extends z.ZodType>(schema: T, args: unknown): z.infer<T> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  throw new Refusal(`invalid arguments: ${problems.join('; ')}`, 'invalid');
}

import { MAX_TASK_PROMPT_CHARS } from '../../container/agent/host-tool-contract.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import { nextRunAfter, parseSchedule, ScheduleError, type ScheduleInput } from '../scheduler/schedule.js';
import { TaskLimitError, type Task, type TaskStore } from '../scheduler/task-store.js';

/** What the service needs of a group: where its tasks may post and in which time zone they run. */
export type TaskGroup = Pick<GroupConfig, 'name' | 'timezone' | 'chats'>;

/**
 * Why an operation was refused: `invalid` (bad input), `refused` (a limit, or a task in the wrong
 * state), `not_found`, `denied` (another group's task; its message reads like not_found).
 */
export type TaskProblem = 'invalid' | 'refused' | 'not_found' | 'denied';

/** An expected refusal: the message is a sentence for the person or agent who asked. */
export class TaskError extends Error {
  constructor(
    message: string,
    readonly problem: TaskProblem,
    readonly taskId?: number,
  ) {
    super(message);
  }
}

/** Who asks: the audit actor ('cli', 'telegram:123', 'agent:<group>'), and the one group they may touch (none: every group). */
export interface TaskCaller {
  actor: string;
  group?: string;
}

export interface AddTaskRequest {
  group: string;
  /** <channel>:<chat id>, one of the group's chats; default: its first chat. */
  chat?: string;
  /** The thread or forum topic of that chat the answers go to (the agent's: its turn's). */
  threadId?: string;
  prompt: string;
  schedule: ScheduleInput;
}

export interface TaskServiceDeps {
  store: TaskStore;
  clock: Clock;
  /** The groups as configured now. */
  groups: () => ReadonlyMap<string, TaskGroup>;
  /** After a task was added or changed (wakes a running scheduler). */
  onChange?: () => void;
}

/**
 * Scheduled tasks, written once for the CLI, the chat commands, the agent's tools and the dashboard:
 * validation of the prompt, the chat and the schedule, the per-group limit and the audit (by the store).
 * A caller scoped to a group sees another group's task as missing.
 */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  add(req: AddTaskRequest, caller: TaskCaller): Task {
    this.checkScope(req.group, caller);
    const groups = this.deps.groups();
    const group = groups.get(req.group);
    if (!group) throw new TaskError(`no group named "${req.group}" (groups: ${[...groups.keys()].join(', ') || 'none'})`, 'not_found');
    const prompt = req.prompt.trim();
    if (prompt === '') throw new TaskError('the prompt is empty', 'invalid');
    if (prompt.length > MAX_TASK_PROMPT_CHARS) throw new TaskError(`the prompt is longer than ${MAX_TASK_PROMPT_CHARS} characters`, 'invalid');
    const chat = req.chat ?? group.chats[0];
    if (!chat) throw new TaskError(`group ${group.name} has no chats to post to; add one to its group.yaml`, 'invalid');
    if (!group.chats.includes(chat)) throw new TaskError(`${chat} is not a chat of group ${group.name} (its chats: ${group.chats.join(', ')})`, 'invalid');
    const schedule = this.parse(req.schedule, group.timezone);
    const sep = chat.indexOf(':');
    let task: Task;
    try {
      task = this.deps.store.create({
        group: group.name,
        channel: chat.slice(0, sep),
        chatId: chat.slice(sep + 1),
        threadId: req.threadId,
        prompt,
        kind: schedule.kind,
        spec: schedule.spec,
        timezone: group.timezone,
        nextRunAt: schedule.firstRunAt,
        createdBy: caller.actor,
      });
    } catch (err) {
      if (err instanceof TaskLimitError) throw new TaskError(err.message, 'refused');
      throw err;
    }
    this.deps.onChange?.();
    return task;
  }

  /** Active and paused tasks (all, with includeFinished); a scoped caller sees only its group's. */
  list(caller: TaskCaller, opts: { group?: string; includeFinished?: boolean } = {}): Task[] {
    const group = caller.group ?? opts.group;
    if (caller.group !== undefined && opts.group !== undefined && opts.group !== caller.group) return [];
    return this.deps.store.list(group, { includeFinished: opts.includeFinished === true });
  }

  get(id: number, caller: TaskCaller): Task {
    const task = this.deps.store.get(id);
    if (!task) throw new TaskError(`there is no task #${id}`, 'not_found', id);
    if (caller.group !== undefined && task.group !== caller.group) throw new TaskError(`there is no task #${id}`, 'denied', id);
    return task;
  }

  cancel(id: number, caller: TaskCaller): Task {
    const task = this.get(id, caller);
    if (!this.deps.store.cancel(id, caller.actor)) throw new TaskError(`task #${id} has already ended (${task.status})`, 'refused', id);
    return this.changed(id);
  }

  pause(id: number, caller: TaskCaller): Task {
    const task = this.get(id, caller);
    if (!this.deps.store.pause(id, caller.actor)) throw new TaskError(`task #${id} is not active (${task.status})`, 'refused', id);
    return this.changed(id);
  }

  /** A paused recurring task resumes at its next slot after now; a one-shot at its time, or now if that passed. */
  resume(id: number, caller: TaskCaller): Task {
    const task = this.get(id, caller);
    const next = this.resumeSlot(task);
    if (!this.deps.store.resume(id, caller.actor, next)) throw new TaskError(`task #${id} is not paused (${task.status})`, 'refused', id);
    return this.changed(id);
  }

  private resumeSlot(task: Task): number {
    const now = this.deps.clock();
    if (task.kind === 'once') return Math.max(task.nextRunAt ?? now, now);
    const next = nextRunAfter(task, now);
    if (next === null) throw new TaskError(`task #${task.id} has no further run`, 'refused', task.id);
    return next;
  }

  private parse(input: ScheduleInput, timezone: string) {
    try {
      return parseSchedule(input, timezone, this.deps.clock());
    } catch (err) {
      if (err instanceof ScheduleError) throw new TaskError(err.message, 'invalid');
      throw err;
    }
  }

  private checkScope(group: string, caller: TaskCaller): void {
    if (caller.group !== undefined && caller.group !== group) throw new TaskError(`no group named "${group}"`, 'denied');
  }

  private changed(id: number): Task {
    this.deps.onChange?.();
    return this.deps.store.get(id)!;
  }
}

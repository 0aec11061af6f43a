import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { describeSchedule, formatLocalTime } from '../scheduler/schedule.js';
import { TaskStore, type Task } from '../scheduler/task-store.js';
import { TaskService, type TaskCaller } from '../services/task-service.js';
import { taskView } from '../services/task-view.js';
import { openHomeState, type CliOutput } from './home-state.js';
import { fail } from './output.js';

export type TasksAction = 'add' | 'list' | 'rm' | 'pause' | 'resume';

export interface TasksOptions {
  group?: string;
  cron?: string;
  every?: string;
  at?: string;
  /** <channel>:<chat id>; default: the group's first chat. */
  chat?: string;
  /** add: what the agent is told at each run. */
  prompt?: string;
  /** rm, pause, resume: the task id. */
  id?: string;
  json?: boolean;
  /** list: also cancelled and finished tasks. */
  all?: boolean;
}

export interface TasksCommandDeps {
  home?: string;
  out?: CliOutput;
  clock?: Clock;
  /** Where task changes are recorded; default: the database's audit log. */
  openAudit?: (db: Db) => AuditSink;
}

/** The owner at the host's shell: every group. */
const CLI: TaskCaller = { actor: 'cli' };

/** `enclave tasks add|list|rm|pause|resume`; a problem is printed and exits non-zero. */
export function runTasks(action: TasksAction, opts: TasksOptions, deps: TasksCommandDeps = {}): void {
  try {
    tasksCommand(action, opts, deps);
  } catch (err) {
    fail(err);
  }
}

/** The command itself: throws on a problem (tests call this). */
export function tasksCommand(action: TasksAction, opts: TasksOptions, deps: TasksCommandDeps = {}): void {
  const state = openHomeState(deps);
  try {
    const audit = deps.openAudit ? deps.openAudit(state.db) : state.audit;
    const tasks = new TaskService({ store: new TaskStore(state.db, audit, state.clock), clock: state.clock, groups: () => state.config.groups });
    if (action === 'add') {
      if (!opts.group) throw new Error('--group is required');
      const task = tasks.add({ group: opts.group, chat: opts.chat, prompt: opts.prompt ?? '', schedule: { cron: opts.cron, every: opts.every, at: opts.at } }, CLI);
      state.print(`Task #${task.id} added to group ${task.group}: ${describeSchedule(task)} (${task.timezone}), next run ${formatLocalTime(task.nextRunAt!, task.timezone)}.`);
    } else if (action === 'list') {
      listTasks(tasks.list(CLI, { group: opts.group, includeFinished: opts.all === true }), opts, state.print);
    } else {
      const id = taskId(opts.id);
      if (action === 'rm') {
        tasks.cancel(id, CLI);
        state.print(`Task #${id} cancelled.`);
      } else if (action === 'pause') {
        tasks.pause(id, CLI);
        state.print(`Task #${id} paused.`);
      } else {
        const task = tasks.resume(id, CLI);
        state.print(`Task #${id} resumed; next run ${formatLocalTime(task.nextRunAt!, task.timezone)}.`);
      }
    }
  } finally {
    state.close();
  }
}

function listTasks(tasks: Task[], opts: TasksOptions, print: (line: string) => void): void {
  if (opts.json) {
    print(JSON.stringify(tasks.map((t) => ({ group: t.group, ...taskView(t) })), null, 2));
    return;
  }
  if (tasks.length === 0) {
    print(opts.group ? `No tasks in group ${opts.group}.` : 'No tasks.');
    return;
  }
  for (const task of tasks) {
    const next = task.nextRunAt === null ? 'no next run' : `next ${formatLocalTime(task.nextRunAt, task.timezone)}`;
    const failures = task.failures > 0 ? ` · ${task.failures} failures in a row` : '';
    print(`#${task.id}  ${task.group}  ${task.status}  ${describeSchedule(task)}  ·  ${next}  ·  ${task.channel}:${task.chatId}${failures}`);
    print(`    ${oneLine(task.prompt)}`);
  }
}

function taskId(raw: string | undefined): number {
  const m = /^#?(\d{1,12})$/.exec(raw?.trim() ?? '');
  if (!m) throw new Error(`"${raw ?? ''}" is not a task id (a number, as \`enclave tasks list\` shows)`);
  return Number(m[1]);
}

function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

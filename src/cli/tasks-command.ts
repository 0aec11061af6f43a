import { AuditLog } from '../audit/audit-log.js';
import type { AuditSink } from '../audit/types.js';
import { systemClock, type Clock } from '../clock.js';
import { loadConfig, seedHome, type Config } from '../config/load.js';
import { openDatabase, type Db } from '../db/database.js';
import { enclaveHome } from '../paths.js';
import { describeSchedule, formatLocalTime, nextRunAfter, parseSchedule } from '../scheduler/schedule.js';
import { TaskStore, type Task } from '../scheduler/task-store.js';
import { taskView } from '../scheduler/task-tools.js';
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
  out?: NodeJS.WritableStream;
  clock?: Clock;
  /** Where task changes are recorded; default: the database's audit log. */
  openAudit?: (db: Db) => AuditSink;
}

const CLI_ACTOR = 'cli';

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
  const home = deps.home ?? enclaveHome();
  const out = deps.out ?? process.stdout;
  const clock = deps.clock ?? systemClock;
  seedHome(home);
  const config = loadConfig(home);
  const db = openDatabase(config.paths.dbFile);
  try {
    const audit = deps.openAudit ? deps.openAudit(db) : new AuditLog(db, clock);
    const store = new TaskStore(db, audit, clock);
    const print = (line: string) => out.write(`${line}\n`);
    if (action === 'add') addTask(config, store, opts, clock(), print);
    else if (action === 'list') listTasks(store, opts, print);
    else changeTask(action, store, taskId(opts.id), clock(), print);
  } finally {
    db.close();
  }
}

function addTask(config: Config, store: TaskStore, opts: TasksOptions, now: number, print: (line: string) => void): void {
  if (!opts.group) throw new Error('--group is required');
  const group = config.groups.get(opts.group);
  if (!group) throw new Error(`no group named "${opts.group}" (groups: ${[...config.groups.keys()].join(', ') || 'none'})`);
  const prompt = opts.prompt?.trim() ?? '';
  if (prompt === '') throw new Error('the prompt is empty');
  const chat = opts.chat ?? group.chats[0];
  if (!chat) throw new Error(`group ${group.name} has no chats to post to; add one to its group.yaml`);
  if (!group.chats.includes(chat)) throw new Error(`${chat} is not a chat of group ${group.name} (its chats: ${group.chats.join(', ')})`);
  const sep = chat.indexOf(':');
  const schedule = parseSchedule({ cron: opts.cron, every: opts.every, at: opts.at }, group.timezone, now);
  const task = store.create({
    group: group.name,
    channel: chat.slice(0, sep),
    chatId: chat.slice(sep + 1),
    prompt,
    kind: schedule.kind,
    spec: schedule.spec,
    timezone: group.timezone,
    nextRunAt: schedule.firstRunAt,
    createdBy: CLI_ACTOR,
  });
  print(`Task #${task.id} added to group ${group.name}: ${describeSchedule(task)} (${task.timezone}), next run ${formatLocalTime(schedule.firstRunAt, task.timezone)}.`);
}

function listTasks(store: TaskStore, opts: TasksOptions, print: (line: string) => void): void {
  const tasks = store.list(opts.group, { includeFinished: opts.all === true });
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

function changeTask(action: 'rm' | 'pause' | 'resume', store: TaskStore, id: number, now: number, print: (line: string) => void): void {
  const task = store.get(id);
  if (!task) throw new Error(`there is no task #${id}`);
  if (action === 'rm') {
    if (!store.cancel(id, CLI_ACTOR)) throw new Error(`task #${id} has already ended (${task.status})`);
    print(`Task #${id} cancelled.`);
  } else if (action === 'pause') {
    if (!store.pause(id, CLI_ACTOR)) throw new Error(`task #${id} is not active (${task.status})`);
    print(`Task #${id} paused.`);
  } else {
    const next = resumeSlot(task, now);
    if (!store.resume(id, CLI_ACTOR, next)) throw new Error(`task #${id} is not paused (${task.status})`);
    print(`Task #${id} resumed; next run ${formatLocalTime(next, task.timezone)}.`);
  }
}

/** A paused recurring task resumes at its next slot after now; a one-shot at its time, or now if that passed. */
export function resumeSlot(task: Task, now: number): number {
  if (task.kind === 'once') return Math.max(task.nextRunAt ?? now, now);
  const next = nextRunAfter(task, now);
  if (next === null) throw new Error(`task #${task.id} has no further run`);
  return next;
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

import type { AuditSink } from '../audit/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { TaskKind } from './schedule.js';

export type TaskStatus = 'active' | 'paused' | 'cancelled' | 'done';

export interface Task {
  id: number;
  group: string;
  channel: string;
  chatId: string;
  /** The thread or forum topic its answers go to; none: the chat itself. */
  threadId?: string;
  prompt: string;
  kind: TaskKind;
  spec: string;
  timezone: string;
  status: TaskStatus;
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastResult: string | null;
  /** Consecutive failed runs; a success resets it. */
  failures: number;
  createdBy: string;
  createdAt: number;
}

/** createdBy is 'agent:<group>', 'cli', ...: also the audit actor. */
export type NewTask = Pick<Task, 'group' | 'channel' | 'chatId' | 'threadId' | 'prompt' | 'kind' | 'spec' | 'timezone' | 'createdBy'> & { nextRunAt: number };

export interface RunRecord {
  at: number;
  ok: boolean;
  /** Short outcome text: 'ok' or the error. */
  result: string;
  /** null: the task has no further run and is done. */
  nextRunAt: number | null;
}

interface TaskRow {
  id: number;
  group_name: string;
  channel: string;
  chat_id: string;
  thread_id: string | null;
  prompt: string;
  kind: TaskKind;
  spec: string;
  timezone: string;
  status: TaskStatus;
  next_run_at: number | null;
  last_run_at: number | null;
  last_result: string | null;
  failures: number;
  created_by: string;
  created_at: number;
}

/** Tasks a group may have active or paused at once. */
export const MAX_TASKS_PER_GROUP = 50;
const MAX_RESULT_CHARS = 500;

export class TaskLimitError extends Error {}

/** The `tasks` table. Every change of a task's status is audited as 'task_change'. */
export class TaskStore {
  private readonly maxPerGroup: number;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditSink,
    private readonly clock: Clock = systemClock,
    opts: { maxPerGroup?: number } = {},
  ) {
    this.maxPerGroup = opts.maxPerGroup ?? MAX_TASKS_PER_GROUP;
  }

  /** The same table, with changes audited to `audit` (the agents' throttled sink, for changes an agent makes). */
  withAudit(audit: AuditSink): TaskStore {
    return new TaskStore(this.db, audit, this.clock, { maxPerGroup: this.maxPerGroup });
  }

  create(task: NewTask): Task {
    const id = this.db.transaction(() => {
      const open = (this.db
        .prepare(`SELECT COUNT(*) AS n FROM tasks WHERE group_name = ? AND status IN ('active', 'paused')`)
        .get(task.group) as { n: number }).n;
      if (open >= this.maxPerGroup) {
        throw new TaskLimitError(`group ${task.group} already has ${open} tasks (the most is ${this.maxPerGroup}); cancel one first`);
      }
      const inserted = this.db
        .prepare(
          `INSERT INTO tasks (group_name, channel, chat_id, thread_id, prompt, kind, spec, timezone, status, next_run_at, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`,
        )
        .run(task.group, task.channel, task.chatId, task.threadId ?? null, task.prompt, task.kind, task.spec, task.timezone, task.nextRunAt, task.createdBy, this.clock());
      return Number(inserted.lastInsertRowid);
    })();
    this.audit.append({
      kind: 'task_change',
      group: task.group,
      actor: task.createdBy,
      detail: { action: 'created', task: id, kind: task.kind, spec: task.spec, chat: `${task.channel}:${task.chatId}` },
    });
    return this.get(id)!;
  }

  get(id: number): Task | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
    return row && toTask(row);
  }

  /** Active and paused tasks (all, with `includeFinished`), of one group or of every group. */
  list(group?: string, opts: { includeFinished?: boolean } = {}): Task[] {
    const where: string[] = [];
    const params: string[] = [];
    if (group !== undefined) {
      where.push('group_name = ?');
      params.push(group);
    }
    if (!opts.includeFinished) where.push(`status IN ('active', 'paused')`);
    const sql = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY group_name, id`;
    return (this.db.prepare(sql).all(...params) as TaskRow[]).map(toTask);
  }

  /** Active tasks whose slot has come, oldest slot first. */
  due(now: number): Task[] {
    return (this.db
      .prepare(`SELECT * FROM tasks WHERE status = 'active' AND next_run_at <= ? ORDER BY next_run_at, id`)
      .all(now) as TaskRow[]).map(toTask);
  }

  /** The earliest slot of an active task other than those given (the ones already running). */
  nextDueAt(except: ReadonlySet<number> = new Set()): number | undefined {
    const row = this.db
      .prepare(
        `SELECT MIN(next_run_at) AS at FROM tasks
         WHERE status = 'active' AND next_run_at IS NOT NULL AND id NOT IN (SELECT value FROM json_each(?))`,
      )
      .get(JSON.stringify([...except])) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Cancels an active or paused task; false when there is no such task or it had already ended. */
  cancel(id: number, actor: string): boolean {
    return this.changeStatus(id, actor, 'cancelled', `status IN ('active', 'paused')`, { next_run_at: null });
  }

  pause(id: number, actor: string, reason?: string): boolean {
    return this.changeStatus(id, actor, 'paused', `status = 'active'`, {}, reason);
  }

  /** Resumes a paused task at the given slot, with its failure count cleared. */
  resume(id: number, actor: string, nextRunAt: number): boolean {
    return this.changeStatus(id, actor, 'active', `status = 'paused'`, { next_run_at: nextRunAt, failures: 0 });
  }

  /** Moves an active task's slot without running it (missed slots after a restart). */
  reschedule(id: number, nextRunAt: number | null): void {
    this.db
      .prepare(`UPDATE tasks SET next_run_at = ?, status = CASE WHEN ? IS NULL THEN 'done' ELSE status END WHERE id = ? AND status = 'active'`)
      .run(nextRunAt, nextRunAt, id);
  }

  /**
   * Records a finished run. A task cancelled or paused while it ran keeps that status; an active
   * one with no further slot is done.
   */
  recordRun(id: number, run: RunRecord): Task | undefined {
    this.db
      .prepare(
        `UPDATE tasks SET
           last_run_at = @at,
           last_result = @result,
           failures = CASE WHEN @ok THEN 0 ELSE failures + 1 END,
           next_run_at = CASE WHEN status = 'active' THEN @next ELSE next_run_at END,
           status = CASE WHEN status = 'active' AND @next IS NULL THEN 'done' ELSE status END
         WHERE id = @id`,
      )
      .run({ id, at: run.at, result: run.result.slice(0, MAX_RESULT_CHARS), ok: run.ok ? 1 : 0, next: run.nextRunAt });
    return this.get(id);
  }

  private changeStatus(
    id: number,
    actor: string,
    status: TaskStatus,
    allowedFrom: string,
    extra: { next_run_at?: number | null; failures?: number },
    reason?: string,
  ): boolean {
    const task = this.get(id);
    if (!task) return false;
    const sets = ['status = @status', ...Object.keys(extra).map((k) => `${k} = @${k}`)];
    const changed = this.db
      .prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = @id AND ${allowedFrom}`)
      .run({ id, status, ...extra }).changes > 0;
    if (changed) {
      this.audit.append({
        kind: 'task_change',
        group: task.group,
        actor,
        detail: { action: status, task: id, from: task.status, ...(reason ? { reason } : {}) },
      });
    }
    return changed;
  }
}

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    group: row.group_name,
    channel: row.channel,
    chatId: row.chat_id,
    threadId: row.thread_id ?? undefined,
    prompt: row.prompt,
    kind: row.kind,
    spec: row.spec,
    timezone: row.timezone,
    status: row.status,
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastResult: row.last_result,
    failures: row.failures,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

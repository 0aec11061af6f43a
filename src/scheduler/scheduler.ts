import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { nextRunAfter } from './schedule.js';
import type { Task, TaskStore } from './task-store.js';

export interface TaskRunOutcome {
  ok: boolean;
  /** Why it failed, in words fit for the chat (it is quoted there). */
  error?: string;
  /**
   * The host stopped before the turn ran to its end. During stop() the run is not recorded, so the
   * task is due again after the restart (a one-shot runs then); at any other time it is a failure.
   */
  interrupted?: boolean;
}

/** setTimeout/clearTimeout, injectable so tests drive time themselves. */
export interface SchedulerTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface SchedulerDeps {
  store: TaskStore;
  clock: Clock;
  /** Runs one turn in the task's group with its prompt and posts the answer to its chat. */
  runTask: (task: Task) => Promise<TaskRunOutcome>;
  /** Why a due task must not run (its chat no longer belongs to its group, ...); it is then paused. */
  mayRun?: (task: Task) => string | undefined;
  /** Tells the task's chat something from the host. */
  notify: (task: Task, text: string) => void;
  audit: AuditSink;
  log: Logger;
  timer?: SchedulerTimer;
  /** The longest sleep between looks at the store, which picks up tasks added by the CLI. */
  maxSleepMs?: number;
}

export const NOTICE_AFTER_FAILURES = 2;
export const PAUSE_AFTER_FAILURES = 10;
const MAX_SLEEP_MS = 60_000;
/** Missed slots are counted (for the log) up to this many. */
const MAX_MISSED_COUNTED = 1000;
const MAX_REASON_CHARS = 300;

const realTimer: SchedulerTimer = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs due tasks. One timer sleeps until the next due task (or at most maxSleepMs, since the
 * CLI can add tasks behind its back). A task never runs while its previous run is in flight.
 */
export class Scheduler {
  private readonly running = new Set<number>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: SchedulerTimer;
  private readonly maxSleepMs: number;
  private handle: unknown;
  private started = false;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {
    this.timer = deps.timer ?? realTimer;
    this.maxSleepMs = deps.maxSleepMs ?? MAX_SLEEP_MS;
  }

  /**
   * After a restart: overdue one-shot tasks stay due and run once; recurring tasks skip the slots
   * they missed and resume at their next slot after now.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.skipMissedSlots(this.deps.clock());
    this.arm();
  }

  /** Stops the timer and waits for the runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Re-arms the timer after the tasks changed (one added or cancelled). */
  wake(): void {
    this.arm();
  }

  /** Starts every task due at `now` that is not already running; resolves when those runs end. */
  async tick(now: number = this.deps.clock()): Promise<void> {
    if (this.stopped) return;
    const runs: Promise<void>[] = [];
    for (const task of this.deps.store.due(now)) {
      if (this.running.has(task.id)) continue;
      const refusal = this.deps.mayRun?.(task);
      if (refusal) {
        // Not told in the chat: the chat may no longer belong to the group at all.
        this.deps.store.pause(task.id, 'host', refusal);
        this.deps.log.warn({ task: task.id, group: task.group, reason: refusal }, 'scheduled task paused');
        continue;
      }
      this.running.add(task.id);
      const run = this.runOne(task);
      this.inFlight.add(run);
      void run.finally(() => this.inFlight.delete(run));
      runs.push(run);
    }
    this.arm();
    await Promise.all(runs);
  }

  get runningCount(): number {
    return this.running.size;
  }

  private skipMissedSlots(now: number): void {
    let tasks = 0;
    let missed = 0;
    for (const task of this.deps.store.due(now)) {
      if (task.kind === 'once') continue;
      const next = this.nextSlot(task, now);
      const count = countMissed(task, now);
      this.deps.store.reschedule(task.id, next);
      this.deps.audit.append({
        kind: 'task_change',
        group: task.group,
        actor: 'host',
        detail: { action: 'skipped_missed_runs', task: task.id, missed: count, nextRunAt: next },
      });
      tasks += 1;
      missed += count;
    }
    if (tasks > 0) this.deps.log.info({ tasks, missedRuns: missed }, 'scheduled tasks: runs missed while Enclave was down were skipped');
  }

  private async runOne(task: Task): Promise<void> {
    try {
      let outcome: TaskRunOutcome;
      try {
        outcome = await this.deps.runTask(task);
      } catch (err) {
        outcome = { ok: false, error: (err as Error).message };
      }
      if (outcome.interrupted && this.stopped) {
        this.deps.log.info({ task: task.id }, 'scheduled task interrupted by the stop; it runs again after the restart');
        return;
      }
      this.finish(task, outcome);
    } catch (err) {
      this.deps.log.error({ task: task.id, err: (err as Error).message }, 'recording a scheduled task run failed');
    } finally {
      this.running.delete(task.id);
      this.arm();
    }
  }

  private finish(task: Task, outcome: TaskRunOutcome): void {
    const at = this.deps.clock();
    const reason = (outcome.error ?? 'unknown error').slice(0, MAX_REASON_CHARS);
    const next = this.nextSlot(task, at);
    const updated = this.deps.store.recordRun(task.id, { at, ok: outcome.ok, result: outcome.ok ? 'ok' : `error: ${reason}`, nextRunAt: next });
    this.deps.audit.append({
      kind: 'task_change',
      group: task.group,
      actor: 'host',
      detail: { action: 'ran', task: task.id, ok: outcome.ok, ...(outcome.ok ? {} : { error: reason }), nextRunAt: updated?.nextRunAt ?? null },
    });
    this.deps.log.info({ task: task.id, group: task.group, ok: outcome.ok, nextRunAt: next }, 'scheduled task ran');
    if (!outcome.ok && updated) this.onFailure(updated, reason);
  }

  private onFailure(task: Task, reason: string): void {
    if (task.kind === 'once') {
      this.tell(task, `Task #${task.id} failed: ${reason}`);
    } else if (task.failures >= PAUSE_AFTER_FAILURES && task.status === 'active') {
      this.deps.store.pause(task.id, 'host', `${task.failures} failures in a row`);
      this.tell(task, `Task #${task.id} failed ${task.failures} times in a row and is now paused: ${reason}`);
    } else if (task.failures === NOTICE_AFTER_FAILURES) {
      this.tell(task, `Task #${task.id} failed twice in a row: ${reason}`);
    }
  }

  private tell(task: Task, text: string): void {
    try {
      this.deps.notify(task, text);
    } catch (err) {
      this.deps.log.error({ task: task.id, err: (err as Error).message }, 'could not tell the chat about a scheduled task');
    }
  }

  /** A stored spec that no longer parses ends the task instead of stopping the scheduler. */
  private nextSlot(task: Task, after: number): number | null {
    try {
      return nextRunAfter(task, after);
    } catch (err) {
      this.deps.log.error({ task: task.id, spec: task.spec, err: (err as Error).message }, 'scheduled task has an invalid schedule; it will not run again');
      return null;
    }
  }

  private arm(): void {
    if (!this.started || this.stopped) return;
    this.clearTimer();
    let delay = this.maxSleepMs;
    try {
      const next = this.deps.store.nextDueAt(this.running);
      if (next !== undefined) delay = Math.min(Math.max(next - this.deps.clock(), 0), this.maxSleepMs);
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'scheduler could not read the next due task; it looks again later');
    }
    this.handle = this.timer.set(() => {
      this.handle = undefined;
      this.tick().catch((err: Error) => this.deps.log.error({ err: err.message }, 'scheduler tick failed'));
    }, delay);
  }

  private clearTimer(): void {
    if (this.handle !== undefined) this.timer.clear(this.handle);
    this.handle = undefined;
  }
}

function countMissed(task: Task, now: number): number {
  let count = 0;
  let slot = task.nextRunAt;
  try {
    while (slot !== null && slot <= now && count < MAX_MISSED_COUNTED) {
      count += 1;
      slot = nextRunAfter({ ...task, nextRunAt: slot }, slot);
    }
  } catch {
    // An invalid stored schedule: nextSlot() has already logged it.
  }
  return count;
}

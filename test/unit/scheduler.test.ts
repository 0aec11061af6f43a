import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import type { AuditEntry } from '../../src/audit/types.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { parseSchedule, type ScheduleInput } from '../../src/scheduler/schedule.js';
import { Scheduler, type SchedulerTimer, type TaskRunOutcome } from '../../src/scheduler/scheduler.js';
import { TaskStore, type Task } from '../../src/scheduler/task-store.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.parse('2026-03-05T12:00:00Z');

/** Records the delay the scheduler asked for; fire() runs its callback as the real timer would. */
class FakeTimer implements SchedulerTimer {
  pending: { fn: () => void; ms: number } | undefined;
  set(fn: () => void, ms: number): unknown {
    this.pending = { fn, ms };
    return this.pending;
  }
  clear(handle: unknown): void {
    if (this.pending === handle) this.pending = undefined;
  }
  fire(): void {
    const p = this.pending;
    this.pending = undefined;
    p?.fn();
  }
}

interface Rig {
  db: Db;
  store: TaskStore;
  now: number;
  audit: AuditEntry[];
  runs: { id: number; at: number }[];
  notices: { id: number; text: string }[];
  outcome: (task: Task) => Promise<TaskRunOutcome>;
  timer: FakeTimer;
  add(group: string, timezone: string, input: ScheduleInput): Task;
  scheduler(log?: Logger): Scheduler;
}

function rig(db: Db = openDatabase(':memory:')): Rig {
  const r: Rig = {
    db,
    now: T0,
    audit: [],
    runs: [],
    notices: [],
    outcome: async () => ({ ok: true }),
    timer: new FakeTimer(),
    store: undefined as unknown as TaskStore,
    add(group, timezone, input) {
      const s = parseSchedule(input, timezone, r.now);
      return r.store.create({ group, channel: 'local', chatId: group, prompt: `task for ${group}`, kind: s.kind, spec: s.spec, timezone, nextRunAt: s.firstRunAt, createdBy: 'test' });
    },
    scheduler(log = silentLogger()) {
      return new Scheduler({
        store: r.store,
        clock: () => r.now,
        runTask: (task) => {
          r.runs.push({ id: task.id, at: r.now });
          return r.outcome(task);
        },
        notify: (task, text) => r.notices.push({ id: task.id, text }),
        audit: { append: (e) => r.audit.push(e) },
        log,
        timer: r.timer,
      });
    },
  };
  r.store = new TaskStore(db, { append: (e) => r.audit.push(e) }, () => r.now);
  return r;
}

test('a weekday 09:00 task fires at 09:00 local time in Kolkata and in Los Angeles, across LA\'s DST change', async () => {
  const r = rig();
  const kolkata = r.add('kol', 'Asia/Kolkata', { cron: '0 9 * * 1-5' });
  const la = r.add('la', 'America/Los_Angeles', { cron: '0 9 * * 1-5' });
  const s = r.scheduler();
  s.start();
  assert.equal(r.timer.pending?.ms, MINUTE, 'nothing due within a minute: it sleeps the longest allowed');

  const expected: [number, string][] = [
    [la.id, '2026-03-05T17:00:00Z'], // Thu 09:00 PST
    [kolkata.id, '2026-03-06T03:30:00Z'], // Fri 09:00 IST
    [la.id, '2026-03-06T17:00:00Z'], // Fri 09:00 PST
    [kolkata.id, '2026-03-09T03:30:00Z'], // Mon 09:00 IST, after the weekend
    [la.id, '2026-03-09T16:00:00Z'], // Mon 09:00 PDT: the clocks moved on Sunday
  ];
  for (const [i, [id, iso]] of expected.entries()) {
    const at = Date.parse(iso);
    r.now = at - 30_000;
    s.wake();
    assert.equal(r.timer.pending?.ms, 30_000, `armed for ${iso}`);
    await s.tick();
    assert.equal(r.runs.length, i, `nothing ran before ${iso}`);
    r.now = at;
    await s.tick();
    assert.deepEqual(r.runs.at(-1), { id, at }, `task ${id} ran at ${iso}`);
  }
  assert.equal(r.runs.length, expected.length, 'no run between the slots');
  assert.equal(r.store.get(la.id)!.nextRunAt, Date.parse('2026-03-10T16:00:00Z'));
  await s.stop();
});

test('the timer runs due tasks by itself', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { every: '5m' });
  const s = r.scheduler();
  s.start();
  r.now = T0 + 5 * MINUTE;
  r.timer.fire();
  assert.deepEqual(r.runs, [{ id: task.id, at: T0 + 5 * MINUTE }]);
  await s.stop();
});

test('an interval task keeps its slots even when a run starts late', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { every: '2h' });
  const s = r.scheduler();
  s.start();
  for (const [offset, runs] of [[2 * HOUR - MINUTE, 0], [2 * HOUR, 1], [4 * HOUR + 30 * MINUTE, 2], [6 * HOUR - MINUTE, 2], [6 * HOUR, 3]] as const) {
    r.now = T0 + offset;
    await s.tick();
    assert.equal(r.runs.length, runs, `runs after ${offset / MINUTE} min`);
  }
  assert.equal(r.store.get(task.id)!.nextRunAt, T0 + 8 * HOUR);
  await s.stop();
});

test('a one-shot task runs once and is done', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { at: new Date(T0 + 10 * MINUTE).toISOString() });
  const s = r.scheduler();
  s.start();
  r.now = T0 + 10 * MINUTE;
  await s.tick();
  r.now = T0 + 20 * MINUTE;
  await s.tick();
  assert.equal(r.runs.length, 1);
  const done = r.store.get(task.id)!;
  assert.equal(done.status, 'done');
  assert.equal(done.nextRunAt, null);
  assert.equal(done.lastRunAt, T0 + 10 * MINUTE);
  assert.equal(done.lastResult, 'ok');
  await s.stop();
});

test('after a restart hours later: an overdue one-shot runs once, recurring tasks skip to their next slot', async () => {
  const r = rig();
  const hourly = r.add('g', 'Europe/Berlin', { cron: '0 * * * *' });
  const interval = r.add('g', 'UTC', { every: '30m' });
  const once = r.add('g', 'UTC', { at: new Date(T0 + HOUR).toISOString() });
  const before = r.scheduler();
  before.start();
  await before.stop();

  r.now = T0 + 5 * HOUR + 10 * MINUTE;
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const after = r.scheduler(log);
  after.start();
  await after.tick();
  await after.tick();
  assert.deepEqual(r.runs, [{ id: once.id, at: r.now }], 'only the one-shot ran, once');
  assert.equal(r.store.get(hourly.id)!.nextRunAt, T0 + 6 * HOUR, 'the hourly task waits for the next full hour');
  assert.equal(r.store.get(interval.id)!.nextRunAt, T0 + 5 * HOUR + 30 * MINUTE, 'the interval keeps its own slots');

  const skipped = r.audit.filter((e) => e.detail.action === 'skipped_missed_runs');
  const missed = new Map(skipped.map((e) => [e.detail.task, e.detail.missed]));
  assert.deepEqual([...missed].sort(), [[hourly.id, 5], [interval.id, 10]]);
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; missedRuns?: number }).find((l) => l.missedRuns !== undefined);
  assert.equal(logged?.missedRuns, 15);

  r.now = T0 + 6 * HOUR;
  await after.tick();
  assert.deepEqual(r.runs.slice(1).map((x) => x.id).sort(), [hourly.id, interval.id].sort(), 'both resume at their next slot');
  await after.stop();
});

test('failures: two in a row tell the chat once, ten pause the task, a success resets the count', async () => {
  const r = rig();
  const flaky = r.add('g', 'UTC', { every: '1h' });
  const s = r.scheduler();
  s.start();
  const results: boolean[] = [false, false, true, false, false, false];
  r.outcome = async () => {
    const ok = results.shift() ?? false;
    if (!ok && results.length % 2 === 0) throw new Error('the container crashed');
    return ok ? { ok: true } : { ok: false, error: 'over budget' };
  };
  for (let i = 1; i <= 12; i++) {
    r.now = T0 + i * HOUR;
    await s.tick();
  }
  // Runs 1-2 fail (notice), 3 succeeds, 4-12 fail: the notice comes again at 5, the pause at 13.
  assert.equal(r.runs.length, 12);
  assert.deepEqual(r.notices.map((n) => n.text.replace(/: .*/, '')), ['Task #1 failed twice in a row', 'Task #1 failed twice in a row']);
  assert.match(r.notices[0]!.text, /failed twice in a row: (over budget|the container crashed)$/);
  const nine = r.store.get(flaky.id)!;
  assert.equal(nine.failures, 9);
  assert.equal(nine.status, 'active');
  assert.match(nine.lastResult!, /^error: /);

  r.now = T0 + 13 * HOUR;
  await s.tick();
  const paused = r.store.get(flaky.id)!;
  assert.equal(paused.status, 'paused');
  assert.equal(paused.failures, 10);
  assert.equal(r.notices.length, 3);
  assert.match(r.notices[2]!.text, /^Task #1 failed 10 times in a row and is now paused: /);
  assert.ok(r.audit.some((e) => e.kind === 'task_change' && e.detail.action === 'paused' && e.actor === 'host'));

  r.now = T0 + 14 * HOUR;
  await s.tick();
  assert.equal(r.runs.length, 13, 'a paused task does not run');
  await s.stop();
});

test('a failed one-shot tells the chat and is done', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { at: new Date(T0 + MINUTE).toISOString() });
  r.outcome = async () => ({ ok: false, error: 'the model provider is down' });
  const s = r.scheduler();
  s.start();
  r.now = T0 + MINUTE;
  await s.tick();
  assert.deepEqual(r.notices, [{ id: task.id, text: `Task #${task.id} failed: the model provider is down` }]);
  assert.equal(r.store.get(task.id)!.status, 'done');
  await s.stop();
});

test('a task never overlaps itself, and one cancelled while running stays cancelled', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { every: '1m' });
  let finish: (o: TaskRunOutcome) => void = () => undefined;
  r.outcome = () => new Promise((resolve) => (finish = resolve));
  const s = r.scheduler();
  s.start();

  r.now = T0 + MINUTE;
  const first = s.tick();
  assert.equal(s.runningCount, 1);
  assert.equal(r.timer.pending?.ms, MINUTE, 'the running task does not make the timer spin');
  r.now = T0 + 2 * MINUTE + 10_000;
  await s.tick();
  assert.equal(r.runs.length, 1, 'its next slot came while it ran: it did not start again');
  finish({ ok: true });
  await first;
  assert.equal(r.store.get(task.id)!.nextRunAt, T0 + 3 * MINUTE, 'the next slot after the run ended');

  r.now = T0 + 3 * MINUTE;
  const second = s.tick();
  assert.equal(r.runs.length, 2);
  assert.equal(r.store.cancel(task.id, 'test'), true);
  finish({ ok: true });
  await second;
  const cancelled = r.store.get(task.id)!;
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.nextRunAt, null);
  r.now = T0 + 10 * MINUTE;
  await s.tick();
  assert.equal(r.runs.length, 2);
  await s.stop();
});

test('a run interrupted by the stop is not recorded: the one-shot runs after the restart', async () => {
  const r = rig();
  const task = r.add('g', 'UTC', { at: new Date(T0 + MINUTE).toISOString() });
  let finish: (o: TaskRunOutcome) => void = () => undefined;
  r.outcome = () => new Promise((resolve) => (finish = resolve));
  const s = r.scheduler();
  s.start();
  r.now = T0 + MINUTE;
  void s.tick();
  const stopped = s.stop();
  finish({ ok: false, error: 'Enclave is shutting down', interrupted: true });
  await stopped;
  const kept = r.store.get(task.id)!;
  assert.deepEqual([kept.status, kept.nextRunAt, kept.failures, kept.lastRunAt], ['active', T0 + MINUTE, 0, null]);
  assert.deepEqual(r.notices, []);

  r.now = T0 + HOUR;
  r.outcome = async () => ({ ok: true });
  const again = r.scheduler();
  again.start();
  await again.tick();
  assert.equal(r.runs.length, 2);
  assert.equal(r.store.get(task.id)!.status, 'done');
  await again.stop();
});

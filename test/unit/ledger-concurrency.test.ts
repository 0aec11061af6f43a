import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openDatabase } from '../../src/db/database.js';
import { spendSummary } from '../../src/ledger/spend.js';
import type { LedgerWorkerJob, LedgerWorkerResult } from '../helpers/ledger-worker.js';

const WORKERS = 4;
const CALLS_PER_WORKER = 50;
const CALL_MICROS = 100_000;
const GROUPS = ['g0', 'g1', 'g2', 'g3'];

test('200 reservations racing from 4 threads on 4 connections never overspend the limits', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'enc-ledger-')), 'e.db');
  const db = openDatabase(file); // migrated once before the racers open it
  const start = new SharedArrayBuffer(4);
  const base: Omit<LedgerWorkerJob, 'worker'> = {
    file,
    calls: CALLS_PER_WORKER,
    groups: GROUPS,
    micros: CALL_MICROS,
    now: Date.UTC(2026, 10, 24, 12),
    // Global: 50 calls of $0.10. g0 alone: 10 calls.
    globalLimits: { dailyUsd: 5 },
    groupLimits: { g0: { dailyUsd: 1 }, g1: { dailyUsd: 100 }, g2: { dailyUsd: 100 }, g3: { dailyUsd: 100 } },
    start,
  };
  const workers = Array.from({ length: WORKERS }, (_, worker) => new Worker(new URL('../helpers/ledger-worker.js', import.meta.url), { workerData: { ...base, worker } }));
  const ready = workers.map((w) => new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  }));
  await Promise.all(ready);
  const results = workers.map((w) => new Promise<LedgerWorkerResult>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  Atomics.store(new Int32Array(start), 0, 1);
  Atomics.notify(new Int32Array(start), 0);
  const done = await Promise.all(results);

  const reserved = (group?: string) => done.reduce((n, r) => n + Object.entries(r.reserved).filter(([g]) => !group || g === group).reduce((m, [, c]) => m + c, 0), 0);
  const refusals = done.flatMap((r) => r.refusals);
  assert.equal(reserved() + refusals.length, WORKERS * CALLS_PER_WORKER);
  assert.equal(reserved(), 50, 'exactly the calls the global limit allows went through');
  assert.ok(reserved('g0') <= 10, `g0 stayed within its own limit (${reserved('g0')})`);

  const totals = db
    .prepare<[], { settled: number; reserves: number; settles: number }>(
      "SELECT SUM(CASE WHEN kind = 'settle' THEN micros ELSE 0 END) AS settled, SUM(kind = 'reserve') AS reserves, SUM(kind = 'settle') AS settles FROM ledger",
    )
    .get()!;
  assert.deepEqual(totals, { settled: 5_000_000, reserves: 50, settles: 50 });
  const g0 = db.prepare<[], { settled: number | null }>("SELECT SUM(micros) AS settled FROM ledger WHERE kind = 'settle' AND group_name = 'g0'").get()!;
  assert.ok((g0.settled ?? 0) <= 1_000_000);

  // The running totals, moved by four connections at once, still add up to the ledger rows.
  const settledOf = db.prepare<[string], { micros: number | null; tokens: number | null }>("SELECT SUM(micros) AS micros, SUM(tokens) AS tokens FROM ledger WHERE kind = 'settle' AND group_name = ?");
  for (const group of GROUPS) {
    const { day, month } = spendSummary(db, group, 'UTC', base.now, 'UTC');
    const rows = settledOf.get(group)!;
    const expected = [rows.micros ?? 0, rows.tokens ?? 0, 0, 0];
    assert.deepEqual([day.micros, day.tokens, day.openMicros, day.openTokens], expected, `${group} today`);
    assert.deepEqual([month.micros, month.tokens, month.openMicros, month.openTokens], expected, `${group} this month`);
  }
  const global = spendSummary(db, 'g0', 'UTC', base.now, 'UTC').global.day;
  assert.deepEqual([global.micros, global.openMicros, global.openTokens], [5_000_000, 0, 0]);
  assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM ledger_totals').get()!.n, 2 * GROUPS.length + 2, 'one row per window, however many connections raced to create it');

  for (const r of refusals) {
    assert.ok(r.scope === 'global' || (r.scope === 'group' && r.group === 'g0'), `refused by ${r.scope} for ${r.group}`);
    assert.ok(r.spent + CALL_MICROS > r.limit, `a refusal only when the call would pass the limit (${r.spent} of ${r.limit})`);
    assert.equal(r.resetsAt, Date.UTC(2026, 10, 25));
    assert.match(r.message, /^(This group has|All groups together have) spent \$\d+\.\d\d of (its|the) \$\d+\.00 daily budget.*; it resets at 00:00 UTC \(in 12 h\)\.$/);
  }
  db.close();
});

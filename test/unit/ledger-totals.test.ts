import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { BudgetLimits } from '../../src/config/schema.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { decodeWindows, type Totals } from '../../src/ledger/ledger-totals.js';
import { GLOBAL_SCOPE, groupScope, limitsFromConfig, PERIODS, UNITS } from '../../src/ledger/limits.js';
import { spendSummary } from '../../src/ledger/spend.js';
import type { BudgetRefusal } from '../../src/ledger/types.js';
import { budgetWindows, dayWindow, type BudgetWindow } from '../../src/ledger/windows.js';

const HOUR = 3_600_000;
const HOST_ZONE = 'America/New_York';
const ZONES: Record<string, string> = { a: 'UTC', b: 'Asia/Kolkata', c: 'America/Los_Angeles' };

interface LedgerRow {
  reservation_id: string;
  kind: 'reserve' | 'settle';
  group_name: string;
  micros: number;
  tokens: number;
  window_at: number;
  windows: string | null;
}

const allRows = (db: Db) => db.prepare<[], LedgerRow>('SELECT reservation_id, kind, group_name, micros, tokens, window_at, windows FROM ledger').all();

/** The spend of a window summed from every ledger row, the way the ledger worked before the totals: by window_at. */
function recomputed(db: Db, group: string | undefined, window: BudgetWindow): Totals {
  const rows = allRows(db).filter((r) => (group === undefined || r.group_name === group) && r.window_at >= window.start && r.window_at < window.end);
  const settled = new Set(rows.filter((r) => r.kind === 'settle').map((r) => r.reservation_id));
  const sum = (list: LedgerRow[], f: (r: LedgerRow) => number) => list.reduce((n, r) => n + f(r), 0);
  const settles = rows.filter((r) => r.kind === 'settle');
  const open = rows.filter((r) => r.kind === 'reserve' && !settled.has(r.reservation_id));
  return { micros: sum(settles, (r) => r.micros), tokens: sum(settles, (r) => r.tokens), openMicros: sum(open, (r) => r.micros), openTokens: sum(open, (r) => r.tokens) };
}

const amounts = (t: Totals): Totals => ({ micros: t.micros, tokens: t.tokens, openMicros: t.openMicros, openTokens: t.openTokens });

/** spendSummary (read from the totals) must equal the recomputation for the group's and the host's windows. */
function assertSummaryAgrees(db: Db, group: string, now: number, note: string): void {
  const zone = ZONES[group]!;
  const summary = spendSummary(db, group, zone, now, HOST_ZONE);
  const own = budgetWindows(zone, now);
  const host = budgetWindows(HOST_ZONE, now);
  assert.deepEqual(amounts(summary.day), recomputed(db, group, own.day), `${note}: ${group} day ${own.day.key}`);
  assert.deepEqual(amounts(summary.month), recomputed(db, group, own.month), `${note}: ${group} month ${own.month.key}`);
  assert.deepEqual(amounts(summary.global.day), recomputed(db, undefined, host.day), `${note}: global day ${host.day.key}`);
  assert.deepEqual(amounts(summary.global.month), recomputed(db, undefined, host.month), `${note}: global month ${host.month.key}`);
}

interface StoredTotals {
  scope: string;
  period: string;
  window_key: string;
  settled_micros: number;
  settled_tokens: number;
  open_micros: number;
  open_tokens: number;
}

/** Every stored totals row equals the sum of the ledger rows whose reservation named its window. */
function assertStoredTotalsAgree(db: Db): number {
  const rows = allRows(db);
  const settled = new Set(rows.filter((r) => r.kind === 'settle').map((r) => r.reservation_id));
  const stored = db.prepare<[], StoredTotals>('SELECT * FROM ledger_totals').all();
  for (const t of stored) {
    const expected = { settled_micros: 0, settled_tokens: 0, open_micros: 0, open_tokens: 0 };
    for (const r of rows) {
      if (r.windows === null) continue;
      if (!decodeWindows(r.windows).some((w) => w.scope === t.scope && w.period === t.period && w.key === t.window_key)) continue;
      if (r.kind === 'settle') {
        expected.settled_micros += r.micros;
        expected.settled_tokens += r.tokens;
      } else if (!settled.has(r.reservation_id)) {
        expected.open_micros += r.micros;
        expected.open_tokens += r.tokens;
      }
    }
    const { settled_micros, settled_tokens, open_micros, open_tokens } = t;
    assert.deepEqual({ settled_micros, settled_tokens, open_micros, open_tokens }, expected, `totals ${t.scope} ${t.period} ${t.window_key}`);
  }
  return stored.length;
}

/** Small deterministic generator (mulberry32), so a failure replays the same way. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clockedLedger(groupLimits: BudgetLimits, globalLimits: BudgetLimits, start: number) {
  const db = openDatabase(':memory:');
  const clock = { now: start };
  const ledger = new SqliteLedger({ db, groupLimits: () => groupLimits, globalLimits: () => globalLimits, hostTimezone: HOST_ZONE, clock: () => clock.now });
  return { db, clock, ledger };
}

/** What the ledger must decide, worked out from the recomputation: the refusals of every limit the call would pass. */
function expectedRefusals(db: Db, group: string, micros: number, tokens: number, now: number, groupLimits: BudgetLimits, globalLimits: BudgetLimits) {
  const found: Array<Pick<BudgetRefusal, 'scope' | 'period' | 'unit' | 'spent'>> = [];
  const scopes = [
    { scope: 'group' as const, of: group, zone: ZONES[group]!, limits: limitsFromConfig(groupLimits) },
    { scope: 'global' as const, of: undefined, zone: HOST_ZONE, limits: limitsFromConfig(globalLimits) },
  ];
  for (const s of scopes) {
    const windows = budgetWindows(s.zone, now);
    for (const period of PERIODS) {
      const spend = recomputed(db, s.of, windows[period]);
      for (const unit of UNITS) {
        const limit = s.limits[period][unit];
        if (limit === null) continue;
        const spent = unit === 'usd' ? spend.micros + spend.openMicros : spend.tokens + spend.openTokens;
        if (spent + (unit === 'usd' ? micros : tokens) > limit) found.push({ scope: s.scope, period, unit, spent });
      }
    }
  }
  return found;
}

test('totals agree with a full recomputation from the ledger rows after a random mix across groups, zones and window ends', () => {
  const groupLimits: BudgetLimits = { dailyUsd: 0.6, monthlyUsd: 5, dailyTokens: 30_000 };
  const globalLimits: BudgetLimits = { dailyUsd: 1.2, monthlyUsd: 12 };
  // From 28 Oct: Los Angeles and New York leave DST on 1 Nov, and November begins in every zone.
  const { db, clock, ledger } = clockedLedger(groupLimits, globalLimits, Date.UTC(2026, 9, 28, 20));
  const next = random(20261124);
  const open: string[] = [];
  const counts = { reserved: 0, refused: 0, settled: 0 };
  for (let step = 0; step < 260; step++) {
    clock.now += Math.floor(next() * 3 * HOUR);
    const group = ['a', 'b', 'c'][Math.floor(next() * 3)]!;
    if (open.length === 0 || next() < 0.55) {
      const micros = Math.floor(next() * 250_000);
      const tokens = Math.floor(next() * 8_000);
      const expected = expectedRefusals(db, group, micros, tokens, clock.now, groupLimits, globalLimits);
      const r = ledger.reserve({ group, timezone: ZONES[group]!, model: 'm', provider: 'p', micros, tokens });
      if (r.ok) {
        assert.deepEqual(expected, [], `step ${step}: reserved although the recomputation says it passes a limit`);
        open.push(r.reservationId);
        counts.reserved++;
      } else {
        const { scope, period, unit, spent } = r.refusal;
        assert.ok(expected.some((e) => e.scope === scope && e.period === period && e.unit === unit && e.spent === spent), `step ${step}: refused (${r.refusal.message}) but expected ${JSON.stringify(expected)}`);
        counts.refused++;
      }
    } else {
      const id = open.splice(Math.floor(next() * open.length), 1)[0]!;
      const kind = next();
      if (kind < 0.6) {
        const used = Math.floor(next() * 4000);
        ledger.settle({ reservationId: id, usage: { inputTokens: used, cachedInputTokens: 0, outputTokens: Math.floor(used / 3) }, micros: Math.floor(next() * 90_000), outcome: 'ok' });
      } else if (kind < 0.8) {
        ledger.settle({ reservationId: id, usage: { inputTokens: 50, cachedInputTokens: 10, outputTokens: 5 }, outcome: 'ok' });
      } else {
        ledger.settle({ reservationId: id, outcome: 'no_usage' });
      }
      counts.settled++;
    }
    if (step % 20 === 0) for (const g of Object.keys(ZONES)) assertSummaryAgrees(db, g, clock.now, `step ${step}`);
  }
  assert.ok(counts.reserved > 50 && counts.refused > 5 && counts.settled > 50, `a mix worth checking: ${JSON.stringify(counts)}`);
  assert.ok(clock.now > Date.UTC(2026, 10, 2), 'the clock crossed the month and the DST change');

  // Past windows too: every day of the run, for every group and for all together.
  for (let t = Date.UTC(2026, 9, 28, 20); t <= clock.now; t += 12 * HOUR) {
    for (const g of Object.keys(ZONES)) assertSummaryAgrees(db, g, t, `after the run, at ${new Date(t).toISOString()}`);
  }
  clock.now += HOUR;
  assert.equal(ledger.closeOpenReservations(clock.now), open.length);
  for (const g of Object.keys(ZONES)) assertSummaryAgrees(db, g, clock.now - HOUR, 'after closing the open reservations');
  assert.ok(assertStoredTotalsAgree(db) > 20, 'totals rows for every window touched');
  db.close();
});

test('a reservation names the four totals it counts in, and its settlement names the same', () => {
  const when = Date.UTC(2026, 10, 24, 20); // already the 25th in Kolkata; the 24th in New York
  const { db, ledger } = clockedLedger({}, {}, when);
  const r = ledger.reserve({ group: 'b', timezone: 'Asia/Kolkata', model: 'm', provider: 'p', micros: 7, tokens: 3 });
  assert.ok(r.ok);
  ledger.settle({ reservationId: r.reservationId, outcome: 'no_usage' });
  const rows = db.prepare<[string], { kind: string; windows: string }>('SELECT kind, windows FROM ledger WHERE reservation_id = ? ORDER BY id').all(r.reservationId);
  const named = [
    { scope: groupScope('b'), period: 'day', key: '2026-11-25' },
    { scope: groupScope('b'), period: 'month', key: '2026-11' },
    { scope: GLOBAL_SCOPE, period: 'day', key: '2026-11-24' },
    { scope: GLOBAL_SCOPE, period: 'month', key: '2026-11' },
  ];
  assert.deepEqual(rows.map((row) => [row.kind, decodeWindows(row.windows)]), [['reserve', named], ['settle', named]]);
  assert.equal(assertStoredTotalsAgree(db), 4);
  db.close();
});

/** Rows as the ledger wrote them before migration 3: no windows, no totals. */
function insertOldRows(db: Db, rows: Array<{ group: string; micros: number; tokens: number; at: number; settled?: { micros: number; tokens: number } }>): string[] {
  const insert = db.prepare(
    `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, outcome, window_at, created_at)
     VALUES (?, ?, ?, 'm', 'p', ?, ?, ?, ?, ?)`,
  );
  return rows.map((r) => {
    const id = randomUUID();
    insert.run(id, 'reserve', r.group, r.micros, r.tokens, null, r.at, r.at);
    if (r.settled) insert.run(id, 'settle', r.group, r.settled.micros, r.settled.tokens, 'ok', r.at, r.at + 1000);
    return id;
  });
}

test('an upgraded database: rows written without totals give the same answers once the totals are rebuilt from them', () => {
  const now = Date.UTC(2026, 10, 24, 15);
  const groupLimits: BudgetLimits = { dailyUsd: 1 };
  const { db, clock, ledger } = clockedLedger(groupLimits, {}, now);
  const ids = insertOldRows(db, [
    { group: 'b', micros: 400_000, tokens: 900, at: now - 2 * HOUR, settled: { micros: 300_000, tokens: 700 } },
    { group: 'b', micros: 250_000, tokens: 500, at: now - HOUR }, // in flight when the old host stopped
    { group: 'b', micros: 100_000, tokens: 100, at: now - 22 * HOUR, settled: { micros: 90_000, tokens: 80 } }, // yesterday in Kolkata
    { group: 'b', micros: 50_000, tokens: 10, at: Date.UTC(2026, 9, 31, 20), settled: { micros: 50_000, tokens: 10 } }, // 1 Nov in Kolkata, 31 Oct in UTC
    { group: 'a', micros: 200_000, tokens: 300, at: now - 3 * HOUR, settled: { micros: 150_000, tokens: 250 } },
    { group: 'a', micros: 30_000, tokens: 30, at: now - 30 * HOUR },
  ]);
  const count = () => db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM ledger_totals').get()!.n;
  const check = (note: string) => {
    for (const g of ['a', 'b']) {
      assertSummaryAgrees(db, g, clock.now, note);
      assertSummaryAgrees(db, g, Date.UTC(2026, 10, 1, 2), `${note}, early November`);
    }
  };

  check('before any totals');
  assert.equal(count(), 0, 'reading recounts without writing');
  const before = spendSummary(db, 'b', 'Asia/Kolkata', now, HOST_ZONE).day;
  assert.deepEqual(amounts(before), { micros: 300_000, tokens: 700, openMicros: 250_000, openTokens: 500 });

  // The old rows count against the limit: $0.55 of $1 spent or reserved today in Kolkata.
  const refused = ledger.reserve({ group: 'b', timezone: 'Asia/Kolkata', model: 'm', provider: 'p', micros: 450_001, tokens: 1 });
  assert.ok(!refused.ok);
  assert.equal(refused.refusal.spent, 550_000);
  assert.equal(count(), 0, 'no totals are stored while an old reservation in them is open');
  check('after the recount');
  const fresh = ledger.reserve({ group: 'b', timezone: 'Asia/Kolkata', model: 'm', provider: 'p', micros: 450_000, tokens: 1 });
  assert.ok(fresh.ok);
  check('with a new reservation on top');

  // The old reservation settles after the upgrade, then the rest is closed as at a restart.
  clock.now += 60_000;
  ledger.settle({ reservationId: ids[1]!, usage: { inputTokens: 20, cachedInputTokens: 0, outputTokens: 20 }, micros: 20_000, outcome: 'ok' });
  check('after an old reservation settled');
  assert.deepEqual(amounts(spendSummary(db, 'b', 'Asia/Kolkata', clock.now, HOST_ZONE).day), { micros: 320_000, tokens: 740, openMicros: 450_000, openTokens: 1 });
  assert.ok(ledger.reserve({ group: 'b', timezone: 'Asia/Kolkata', model: 'm', provider: 'p', micros: 230_000, tokens: 1 }).ok, 'the settled difference is free again');
  assert.equal(count(), 3, 'totals stored for the windows without open old reservations; the global month still holds one');
  check('after the rebuild');
  clock.now += 1000;
  assert.equal(ledger.closeOpenReservations(clock.now), 3);
  check('after closing the open reservations');
  assert.equal(spendSummary(db, 'a', 'UTC', now - 30 * HOUR, HOST_ZONE).day.micros, 30_000, "yesterday's old open reservation is charged in full");
  for (const g of ['a', 'b']) {
    assert.ok(ledger.reserve({ group: g, timezone: ZONES[g]!, model: 'm', provider: 'p', micros: 0, tokens: 1 }).ok);
  }
  check('after more reservations');
  assert.equal(count(), 6, 'every window stored once no old reservation is open');
  db.close();
});

test('a totals row that goes missing is recounted from the ledger rows', () => {
  const { db, clock, ledger } = clockedLedger({ dailyUsd: 1 }, {}, Date.UTC(2026, 10, 24, 10));
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = ledger.reserve({ group: 'a', timezone: 'UTC', model: 'm', provider: 'p', micros: 100_000, tokens: 10 });
    assert.ok(r.ok);
    ids.push(r.reservationId);
    clock.now += 60_000;
  }
  for (const id of ids.slice(0, 4)) ledger.settle({ reservationId: id, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 }, micros: 50_000, outcome: 'ok' });
  const before = spendSummary(db, 'a', 'UTC', clock.now, HOST_ZONE);
  db.prepare("DELETE FROM ledger_totals WHERE period = 'day'").run();
  assert.deepEqual(spendSummary(db, 'a', 'UTC', clock.now, HOST_ZONE), before);
  ledger.settle({ reservationId: ids[4]!, outcome: 'no_usage' });
  // Settled 4 x $0.05 + $0.10, one $0.10 still open: $0.40 of $1, so $0.60 more fits and a micro-dollar more does not.
  const refused = ledger.reserve({ group: 'a', timezone: 'UTC', model: 'm', provider: 'p', micros: 600_001, tokens: 1 });
  assert.ok(!refused.ok);
  assert.equal(refused.refusal.spent, 400_000);
  assert.ok(ledger.reserve({ group: 'a', timezone: 'UTC', model: 'm', provider: 'p', micros: 600_000, tokens: 1 }).ok);
  assertSummaryAgrees(db, 'a', clock.now, 'after the recount');
  assertStoredTotalsAgree(db);
  db.close();
});

test('a group that moves to another zone keeps the spend of the same local date', () => {
  const { db, clock, ledger } = clockedLedger({ dailyUsd: 1 }, {}, Date.UTC(2026, 10, 24, 11)); // 01:00 on 25 Nov in Kiritimati (+14)
  const call = (timezone: string, micros: number) => ledger.reserve({ group: 'z', timezone, model: 'm', provider: 'p', micros, tokens: 1 });
  const early = call('Pacific/Kiritimati', 600_000);
  assert.ok(early.ok);
  clock.now = Date.UTC(2026, 10, 25, 12); // 01:00 on 25 Nov in Pago Pago (-11), a day later
  const refused = call('Pacific/Pago_Pago', 400_001);
  assert.ok(!refused.ok);
  assert.equal(refused.refusal.spent, 600_000);
  ledger.settle({ reservationId: early.reservationId, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 }, micros: 100_000, outcome: 'ok' });
  const day = () => {
    const d = spendSummary(db, 'z', 'Pacific/Pago_Pago', clock.now, HOST_ZONE).day;
    return [d.key, d.micros, d.openMicros];
  };
  assert.deepEqual(day(), ['2026-11-25', 100_000, 0]);
  assert.ok(call('Pacific/Pago_Pago', 900_000).ok);
  const full = call('Pacific/Pago_Pago', 1);
  assert.ok(!full.ok);
  assert.equal(full.refusal.spent, 1_000_000);
  assertStoredTotalsAgree(db);
  db.close();
});

test('budget windows are reused within a window and move on at its end, forwards and backwards', () => {
  const zone = 'Asia/Kathmandu';
  const day = dayWindow(zone, Date.UTC(2026, 10, 24, 12));
  assert.equal(budgetWindows(zone, day.start + 1).day.key, day.key);
  assert.equal(budgetWindows(zone, day.start + 2), budgetWindows(zone, day.start + 3), 'the same object within the window');
  assert.equal(budgetWindows(zone, day.end - 1).day.key, '2026-11-24');
  assert.equal(budgetWindows(zone, day.end).day.key, '2026-11-25');
  assert.equal(budgetWindows(zone, day.start - 1).day.key, '2026-11-23');
  assert.equal(budgetWindows(zone, Date.UTC(2026, 11, 31, 19)).month.key, '2027-01');
  assert.equal(budgetWindows(zone, day.start).day.key, '2026-11-24');
  assert.throws(() => {
    (budgetWindows(zone, day.start).day as { key: string }).key = 'changed';
  }, TypeError);
});

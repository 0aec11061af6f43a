import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BudgetLimits } from '../../src/config/schema.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope, limitsFromConfig, parseBudgetSetArgs, setLimit } from '../../src/ledger/limits.js';
import { formatUsd, parseUsd } from '../../src/ledger/money.js';
import { budgetNotices, refusalNoticeDue, refusalWindowKey } from '../../src/ledger/notices.js';
import { spendSummary } from '../../src/ledger/spend.js';
import type { ReserveRequest, ReserveResult } from '../../src/ledger/types.js';

const USD = 1_000_000;
// 2026-11-24 15:18 UTC = 20:48 in Asia/Kolkata, 3 h 12 min before its midnight.
const NOON_ISH = Date.UTC(2026, 10, 24, 15, 18);

interface Setup {
  db: Db;
  ledger: SqliteLedger;
  clock: { now: number };
}

function setup(opts: { group?: BudgetLimits; global?: BudgetLimits; groups?: Record<string, BudgetLimits>; now?: number } = {}): Setup {
  const db = openDatabase(':memory:');
  const clock = { now: opts.now ?? NOON_ISH };
  const ledger = new SqliteLedger({
    db,
    groupLimits: (g) => opts.groups?.[g] ?? opts.group ?? { dailyUsd: 1, monthlyUsd: 20 },
    globalLimits: () => opts.global ?? {},
    hostTimezone: 'UTC',
    clock: () => clock.now,
  });
  return { db, ledger, clock };
}

const call = (group: string, micros: number, tokens = 100, timezone = 'UTC'): ReserveRequest => ({ group, timezone, model: 'm', provider: 'p', micros, tokens });

function reserved(result: ReserveResult): string {
  assert.ok(result.ok, `expected a reservation, got: ${result.ok ? '' : result.refusal.message}`);
  return result.reservationId;
}

function refused(result: ReserveResult) {
  assert.ok(!result.ok, 'expected a refusal');
  return result.refusal;
}

test('the ledger is append-only: the database refuses UPDATE and DELETE', () => {
  const { db, ledger } = setup();
  const id = reserved(ledger.reserve(call('a', 1000)));
  ledger.settle({ reservationId: id, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5 }, micros: 500, outcome: 'ok' });
  assert.throws(() => db.prepare('UPDATE ledger SET micros = 0').run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM ledger').run(), /append-only/);
  assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM ledger').get()!.n, 2);
});

test('a reservation counts as open until it settles, then the real cost counts', () => {
  const { db, ledger } = setup();
  const id = reserved(ledger.reserve(call('a', 300_000, 2000)));
  let day = spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC').day;
  assert.deepEqual([day.micros, day.openMicros, day.tokens, day.openTokens], [0, 300_000, 0, 2000]);

  ledger.settle({ reservationId: id, usage: { inputTokens: 700, cachedInputTokens: 200, outputTokens: 50 }, micros: 12_345, outcome: 'ok' });
  const summary = spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC');
  day = summary.day;
  assert.deepEqual([day.micros, day.openMicros, day.tokens, day.openTokens], [12_345, 0, 750, 0]);
  assert.equal(summary.month.micros, 12_345);
  assert.equal(summary.global.day.micros, 12_345);
  const row = db.prepare("SELECT input_tokens, cached_tokens, output_tokens, outcome FROM ledger WHERE kind = 'settle'").get();
  assert.deepEqual(row, { input_tokens: 700, cached_tokens: 200, output_tokens: 50, outcome: 'ok' });
});

test('a call that would pass the limit is refused; exactly reaching it is allowed', () => {
  const { ledger } = setup({ group: { dailyUsd: 1 } });
  reserved(ledger.reserve(call('a', 600_000)));
  const refusal = refused(ledger.reserve(call('a', 400_001)));
  assert.deepEqual([refusal.scope, refusal.period, refusal.unit, refusal.spent, refusal.limit], ['group', 'day', 'usd', 600_000, USD]);
  reserved(ledger.reserve(call('a', 400_000)));
  refused(ledger.reserve(call('a', 1)));
});

test('missing usage charges the whole reservation; usage without a cost charges the reserved dollars', () => {
  const { db, ledger } = setup();
  const first = reserved(ledger.reserve(call('a', 250_000, 4000)));
  ledger.settle({ reservationId: first, outcome: 'no_usage' });
  let day = spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC').day;
  assert.deepEqual([day.micros, day.tokens, day.openMicros], [250_000, 4000, 0]);
  assert.equal(db.prepare<[string], { outcome: string }>("SELECT outcome FROM ledger WHERE reservation_id = ? AND kind = 'settle'").get(first)!.outcome, 'no_usage');

  const second = reserved(ledger.reserve(call('a', 100_000, 4000)));
  ledger.settle({ reservationId: second, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 20 }, outcome: 'ok' });
  day = spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC').day;
  assert.deepEqual([day.micros, day.tokens], [350_000, 4030]);
});

test('settling twice or an unknown reservation is an error and never changes the totals', () => {
  const { db, ledger } = setup();
  const id = reserved(ledger.reserve(call('a', 200_000)));
  ledger.settle({ reservationId: id, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 }, micros: 1000, outcome: 'ok' });
  const before = spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC').day;
  assert.throws(() => ledger.settle({ reservationId: id, outcome: 'no_usage' }), /already settled/);
  assert.throws(() => ledger.settle({ reservationId: 'no-such-id', outcome: 'no_usage' }), /no such reservation/);
  assert.throws(() => ledger.settle({ reservationId: id, usage: { inputTokens: -1, cachedInputTokens: 0, outputTokens: 0 }, micros: 1, outcome: 'ok' }), /whole number/);
  assert.deepEqual(spendSummary(db, 'a', 'UTC', NOON_ISH, 'UTC').day, before);
  assert.throws(() => ledger.reserve(call('a', 1.5)), /whole number/);
  assert.throws(() => ledger.reserve(call('a', Number.NaN)), /whole number/);
});

test('token limits refuse by tokens even when dollars are free', () => {
  const { ledger } = setup({ group: { dailyTokens: 1000 } });
  const id = reserved(ledger.reserve(call('a', 0, 600)));
  const refusal = refused(ledger.reserve(call('a', 0, 600)));
  assert.deepEqual([refusal.unit, refusal.spent, refusal.limit], ['tokens', 600, 1000]);
  assert.match(refusal.message, /has used 600 tokens of its daily limit of 1,000 tokens, and this call could use up to 600 tokens/);
  ledger.settle({ reservationId: id, usage: { inputTokens: 100, cachedInputTokens: 0, outputTokens: 50 }, micros: 0, outcome: 'ok' });
  reserved(ledger.reserve(call('a', 0, 600)));
});

test('the global limit covers all groups together', () => {
  const { ledger } = setup({ group: { dailyUsd: 10 }, global: { dailyUsd: 1 } });
  reserved(ledger.reserve(call('a', 600_000)));
  const refusal = refused(ledger.reserve(call('b', 500_000)));
  assert.deepEqual([refusal.scope, refusal.spent, refusal.limit], ['global', 600_000, USD]);
  assert.match(refusal.message, /^All groups together have spent \$0\.60 of the \$1\.00 daily budget/);
  reserved(ledger.reserve(call('b', 400_000)));
});

test('a refusal says what was spent, the limit and when it resets in the group zone', () => {
  const { ledger } = setup({ group: { dailyUsd: 2.5, monthlyUsd: 100 } });
  reserved(ledger.reserve(call('a', 2_490_000, 100, 'Asia/Kolkata')));
  const refusal = refused(ledger.reserve(call('a', 50_000, 100, 'Asia/Kolkata')));
  assert.equal(refusal.resetsAt, Date.UTC(2026, 10, 24, 18, 30));
  assert.equal(
    refusal.message,
    'This group has spent $2.49 of its $2.50 daily budget, and this call could cost up to $0.05; it resets at 00:00 Asia/Kolkata (in 3 h 12 min).',
  );
});

test('when the day and the month both refuse, the refusal names the month (it lasts longer)', () => {
  const { ledger } = setup({ group: { dailyUsd: 1, monthlyUsd: 1 } });
  reserved(ledger.reserve(call('a', USD)));
  const refusal = refused(ledger.reserve(call('a', 1)));
  assert.equal(refusal.period, 'month');
  assert.equal(refusal.resetsAt, Date.UTC(2026, 11, 1));
  assert.match(refusal.message, /its \$1\.00 monthly budget; it resets on 1 Dec at 00:00 UTC \(in 6 days 8 h\)\.$/);
});

test("an owner's limit replaces the configured one; off removes it", () => {
  const { db, ledger } = setup({ group: { dailyUsd: 1 } });
  setLimit(db, groupScope('a'), 'day', 'usd', 100_000, 'owner', NOON_ISH);
  refused(ledger.reserve(call('a', 200_000)));
  reserved(ledger.reserve(call('b', 200_000)));
  setLimit(db, groupScope('a'), 'day', 'usd', null, 'owner', NOON_ISH);
  reserved(ledger.reserve(call('a', 5 * USD)));
  setLimit(db, GLOBAL_SCOPE, 'month', 'tokens', 50, 'owner', NOON_ISH);
  assert.equal(refused(ledger.reserve(call('b', 0, 100))).scope, 'global');
  assert.deepEqual(effectiveLimits(db, groupScope('a'), { dailyUsd: 1, monthlyTokens: 9 }), { day: { usd: null, tokens: null }, month: { usd: null, tokens: 9 } });
  assert.deepEqual(limitsFromConfig({ dailyUsd: 0.1, monthlyUsd: 20 }), { day: { usd: 100_000, tokens: null }, month: { usd: 20 * USD, tokens: null } });
  assert.throws(() => setLimit(db, GLOBAL_SCOPE, 'day', 'usd', -1, 'owner', NOON_ISH), /whole number/);
});

test('/budget set arguments', () => {
  const ok = (args: string[]) => {
    const parsed = parseBudgetSetArgs(args);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    return parsed.change;
  };
  assert.deepEqual(ok(['daily', '2.50']), { scope: 'group', period: 'day', unit: 'usd', amount: 2_500_000 });
  assert.deepEqual(ok(['monthly', '20']), { scope: 'group', period: 'month', unit: 'usd', amount: 20 * USD });
  assert.deepEqual(ok(['daily', 'tokens', '200000']), { scope: 'group', period: 'day', unit: 'tokens', amount: 200_000 });
  assert.deepEqual(ok(['daily', 'tokens', '1.5m']), { scope: 'group', period: 'day', unit: 'tokens', amount: 1_500_000 });
  assert.deepEqual(ok(['Daily', 'OFF']), { scope: 'group', period: 'day', unit: 'usd', amount: null });
  assert.deepEqual(ok(['global', 'monthly', '$50']), { scope: 'global', period: 'month', unit: 'usd', amount: 50 * USD });
  const error = (args: string[], pattern: RegExp) => {
    const parsed = parseBudgetSetArgs(args);
    assert.ok(!parsed.ok);
    assert.match(parsed.error, pattern);
  };
  error([], /daily or monthly/);
  error(['weekly', '3'], /daily or monthly/);
  error(['daily'], /new limit/);
  error(['daily', 'tokens'], /new limit/);
  error(['daily', '-1'], /not an amount in USD/);
  error(['daily', '2.5000001'], /at most 6 decimals/);
  error(['daily', 'tokens', '1.5'], /whole number of tokens/);
  error(['daily', 'euros', '3'], /not a unit/);
  error(['daily', 'tokens', '3', 'please'], /Too many words/);
});

test('money is exact integer micro-dollars', () => {
  assert.equal((parseUsd('0.1') ?? 0) + (parseUsd('0.2') ?? 0), parseUsd('0.3'));
  assert.equal(parseUsd('19.99'), 19_990_000);
  assert.equal(parseUsd('1000001'), undefined);
  assert.deepEqual([0, 12_300, 99, 2_500_000, 2_499_999, 1_234_567_890].map(formatUsd), ['$0.00', '$0.0123', '$0.000099', '$2.50', '$2.49', '$1,234.56']);
});

test('thresholds are told once per window, only the highest newly reached level', () => {
  const { db, ledger, clock } = setup({ group: { dailyUsd: 1, monthlyUsd: 100 } });
  const limits = limitsFromConfig({ dailyUsd: 1, monthlyUsd: 100 });
  const spend = (micros: number) => {
    const id = reserved(ledger.reserve(call('a', micros)));
    ledger.settle({ reservationId: id, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 }, micros, outcome: 'ok' });
  };
  const levels = () => budgetNotices(db, 'a', 'UTC', clock.now, limits).map((n) => `${n.period}:${n.level}`);
  spend(400_000);
  assert.deepEqual(levels(), []);
  spend(100_000);
  const first = budgetNotices(db, 'a', 'UTC', clock.now, limits);
  assert.deepEqual(first.map((n) => n.level), [50]);
  assert.match(first[0]!.message, /^This group has used 50% of its \$1\.00 daily budget \(\$0\.50 spent\); it resets at 00:00 UTC \(in 8 h 42 min\)\.$/);
  assert.deepEqual(levels(), [], 'told once');
  spend(450_000);
  assert.deepEqual(levels(), ['day:80'], '95%: 80 is new, 100 not reached');
  assert.deepEqual(levels(), []);

  clock.now += 24 * 3600_000;
  spend(999_999);
  spend(1);
  const next = budgetNotices(db, 'a', 'UTC', clock.now, limits);
  assert.deepEqual(next.map((n) => n.level), [100], 'a jump straight to 100% is one notice');
  assert.match(next[0]!.message, /used all of its \$1\.00 daily budget \(\$1\.00 spent\); new requests are refused until it resets/);
  assert.deepEqual(levels(), [], '50 and 80 are recorded too, never told later in this window');
});

test('a refusal is told to the chat once per window', () => {
  const { db, ledger, clock } = setup({ group: { dailyUsd: 0.1 } });
  reserved(ledger.reserve(call('a', 100_000)));
  const first = refused(ledger.reserve(call('a', 1)));
  assert.equal(refusalNoticeDue(db, 'a', refusalWindowKey(first), clock.now), true);
  const second = refused(ledger.reserve(call('a', 1)));
  assert.equal(refusalNoticeDue(db, 'a', refusalWindowKey(second), clock.now), false);
  assert.equal(refusalNoticeDue(db, 'b', refusalWindowKey(second), clock.now), true, 'per group');
  clock.now += 24 * 3600_000;
  reserved(ledger.reserve(call('a', 100_000)));
  const tomorrow = refused(ledger.reserve(call('a', 1)));
  assert.equal(refusalNoticeDue(db, 'a', refusalWindowKey(tomorrow), clock.now), true);
});

test('reservations left open by a stopped host are settled at their full amount', () => {
  const { db, ledger, clock } = setup();
  const open = reserved(ledger.reserve(call('a', 300_000, 50)));
  const done = reserved(ledger.reserve(call('a', 100_000, 50)));
  ledger.settle({ reservationId: done, outcome: 'no_usage' });
  clock.now += 1000;
  const later = reserved(ledger.reserve(call('a', 100_000, 50)));
  assert.equal(ledger.closeOpenReservations(clock.now), 1);
  const day = spendSummary(db, 'a', 'UTC', clock.now, 'UTC').day;
  assert.deepEqual([day.micros, day.openMicros], [400_000, 100_000]);
  assert.throws(() => ledger.settle({ reservationId: open, outcome: 'ok' }), /already settled/);
  ledger.settle({ reservationId: later, outcome: 'aborted' });
});

test('a settled call that used more tokens than reserved is remembered per group, provider and model, across a restart', () => {
  const { db, ledger, clock } = setup({ group: {} });
  const within = reserved(ledger.reserve(call('g', 100, 1_000)));
  ledger.settle({ reservationId: within, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 900 }, micros: 50, outcome: 'ok' });
  assert.equal(ledger.largestOverrunOutput('g', 'p', 'm'), undefined, 'a call within its reservation is no overrun');
  const unsettled = reserved(ledger.reserve(call('g', 100, 1_000)));
  ledger.settle({ reservationId: unsettled, outcome: 'no_usage' });
  assert.equal(ledger.largestOverrunOutput('g', 'p', 'm'), undefined, 'a reservation charged in full is no overrun');

  for (const output of [20_000, 5_000]) {
    const id = reserved(ledger.reserve(call('g', 100, 1_000)));
    ledger.settle({ reservationId: id, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: output }, micros: 50, outcome: 'ok' });
  }
  assert.equal(ledger.largestOverrunOutput('g', 'p', 'm'), 20_000, 'the largest output of an overrun');
  assert.equal(ledger.largestOverrunOutput('other', 'p', 'm'), undefined);
  assert.equal(ledger.largestOverrunOutput('g', 'p', 'm2'), undefined);

  const restarted = new SqliteLedger({ db, groupLimits: () => ({}), globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => clock.now });
  assert.equal(restarted.largestOverrunOutput('g', 'p', 'm'), 20_000, 'read back from the ledger after a restart');
});

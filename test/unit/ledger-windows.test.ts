import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { spendSummary } from '../../src/ledger/spend.js';
import { budgetWindows, dayWindow, monthWindow } from '../../src/ledger/windows.js';
import { localTime } from '../../src/time/local-time.js';

const HOUR = 3600_000;
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The instant of a local wall-clock time, given the zone's UTC offset then (in minutes). */
const at = (y: number, mo: number, d: number, h: number, mi: number, offsetMinutes: number) => Date.UTC(y, mo - 1, d, h, mi) - offsetMinutes * MINUTE;

test('Asia/Kolkata (+5:30): 23:59 and 00:01 local fall in different days; the window is local midnight to midnight', () => {
  const before = dayWindow('Asia/Kolkata', at(2026, 11, 24, 23, 59, 330));
  const after = dayWindow('Asia/Kolkata', at(2026, 11, 25, 0, 1, 330));
  assert.equal(before.key, '2026-11-24');
  assert.equal(after.key, '2026-11-25');
  assert.equal(iso(before.start), '2026-11-23T18:30:00.000Z');
  assert.equal(iso(before.end), '2026-11-24T18:30:00.000Z');
  assert.equal(before.end, after.start);
});

test('America/Los_Angeles: days by local midnight, 23 h and 25 h days at the DST changes', () => {
  const lateNight = dayWindow('America/Los_Angeles', at(2026, 7, 14, 23, 59, -420));
  const justAfter = dayWindow('America/Los_Angeles', at(2026, 7, 15, 0, 1, -420));
  assert.deepEqual([lateNight.key, justAfter.key], ['2026-07-14', '2026-07-15']);
  assert.equal(iso(justAfter.start), '2026-07-15T07:00:00.000Z');

  const spring = dayWindow('America/Los_Angeles', Date.UTC(2026, 2, 8, 20));
  assert.equal(spring.key, '2026-03-08');
  assert.equal(spring.end - spring.start, 23 * HOUR);
  assert.equal(iso(spring.start), '2026-03-08T08:00:00.000Z');
  const autumn = dayWindow('America/Los_Angeles', Date.UTC(2026, 10, 1, 20));
  assert.equal(autumn.key, '2026-11-01');
  assert.equal(autumn.end - autumn.start, 25 * HOUR);
  assert.equal(iso(autumn.end), '2026-11-02T08:00:00.000Z');
});

test('month windows roll over at local midnight of the 1st', () => {
  assert.equal(monthWindow('America/Los_Angeles', at(2026, 11, 30, 23, 59, -480)).key, '2026-11');
  const dec = monthWindow('America/Los_Angeles', at(2026, 12, 1, 0, 1, -480));
  assert.equal(dec.key, '2026-12');
  assert.equal(iso(dec.start), '2026-12-01T08:00:00.000Z');
  assert.equal(iso(dec.end), '2027-01-01T08:00:00.000Z');
  assert.equal(monthWindow('Asia/Kolkata', at(2026, 12, 31, 23, 59, 330)).key, '2026-12');
  const jan = monthWindow('Asia/Kolkata', at(2027, 1, 1, 0, 1, 330));
  assert.equal(jan.key, '2027-01');
  assert.equal(iso(jan.start), '2026-12-31T18:30:00.000Z');
});

test('windows tile time with no gap or overlap in zones with odd offsets and DST at midnight', () => {
  const zones: Array<[string, number]> = [
    ['America/Los_Angeles', 2026],
    ['Asia/Kolkata', 2026],
    ['Asia/Kathmandu', 2026],
    ['Australia/Lord_Howe', 2026],
    ['America/Santiago', 2026], // DST begins at midnight: 00:00 does not exist that day
    ['America/Sao_Paulo', 2018], // DST ended at midnight: the clock went back to 23:00
    ['Pacific/Apia', 2011], // skipped 30 December 2011 entirely
  ];
  for (const [zone, year] of zones) {
    let t = Date.UTC(year, 0, 1, 12);
    let previous = dayWindow(zone, t);
    const lengths = new Set<number>();
    for (let i = 0; i < 366; i++) {
      t = previous.end;
      const day = dayWindow(zone, t);
      assert.equal(day.start, previous.end, `${zone}: ${day.key} starts where ${previous.key} ends`);
      assert.ok(day.key > previous.key, `${zone}: ${day.key} follows ${previous.key}`);
      const first = localTime(zone, day.start);
      assert.equal(`${first.year}-${String(first.month).padStart(2, '0')}-${String(first.day).padStart(2, '0')}`, day.key, `${zone}: ${day.key} begins on its own date`);
      assert.ok(first.hour <= 1 && (first.hour === 0 || first.minute === 0), `${zone}: ${day.key} begins at ${first.hour}:${first.minute}`);
      assert.equal(dayWindow(zone, day.end - 1).key, day.key, `${zone}: the last ms of ${day.key} is in it`);
      lengths.add(day.end - day.start);
      previous = day;
    }
    if (zone === 'America/Los_Angeles') assert.deepEqual([...lengths].sort(), [23 * HOUR, 24 * HOUR, 25 * HOUR].sort());
    if (zone === 'Asia/Kolkata') assert.deepEqual([...lengths], [24 * HOUR]);
    if (zone === 'Australia/Lord_Howe') assert.ok(lengths.has(23.5 * HOUR) && lengths.has(24.5 * HOUR), 'half-hour DST');
  }
  const skipped = dayWindow('Pacific/Apia', Date.UTC(2011, 11, 29, 12));
  assert.equal(skipped.key, '2011-12-29');
  assert.equal(dayWindow('Pacific/Apia', skipped.end).key, '2011-12-31');
});

function clockedLedger(timezoneOfHost: string, limits: { dailyUsd?: number; monthlyUsd?: number }) {
  const db = openDatabase(':memory:');
  const clock = { now: 0 };
  const ledger = new SqliteLedger({ db, groupLimits: () => limits, globalLimits: () => ({}), hostTimezone: timezoneOfHost, clock: () => clock.now });
  const spend = (group: string, timezone: string, micros: number, when: number) => {
    clock.now = when;
    const r = ledger.reserve({ group, timezone, model: 'm', provider: 'p', micros, tokens: 1 });
    assert.ok(r.ok, r.ok ? '' : r.refusal.message);
    return r.reservationId;
  };
  return { db, clock, ledger, spend };
}

for (const [zone, offset] of [['Asia/Kolkata', 330], ['America/Los_Angeles', -480]] as const) {
  test(`${zone}: spend at 23:59 and 00:01 local lands in the right day and month`, () => {
    const { db, ledger, clock, spend } = clockedLedger('UTC', { dailyUsd: 1, monthlyUsd: 100 });
    const lastMinute = at(2026, 11, 30, 23, 59, offset);
    const firstMinute = at(2026, 12, 1, 0, 1, offset);
    const late = spend('g', zone, 1_000_000, lastMinute);
    ledger.settle({ reservationId: late, outcome: 'no_usage' });
    clock.now = lastMinute + 30_000;
    const refusal = ledger.reserve({ group: 'g', timezone: zone, model: 'm', provider: 'p', micros: 1, tokens: 1 });
    assert.ok(!refusal.ok);
    assert.equal(refusal.refusal.resetsAt, at(2026, 12, 1, 0, 0, offset));
    assert.match(refusal.refusal.message, new RegExp(`resets at 00:00 ${zone} \\(in less than a minute\\)`));

    const early = spend('g', zone, 300_000, firstMinute);
    const atNight = spendSummary(db, 'g', zone, lastMinute, 'UTC');
    const inMorning = spendSummary(db, 'g', zone, firstMinute, 'UTC');
    assert.deepEqual([atNight.day.key, atNight.day.micros, atNight.month.key, atNight.month.micros], ['2026-11-30', 1_000_000, '2026-11', 1_000_000]);
    assert.deepEqual([inMorning.day.key, inMorning.day.openMicros, inMorning.month.key, inMorning.month.openMicros], ['2026-12-01', 300_000, '2026-12', 300_000]);
    assert.equal(inMorning.day.micros + inMorning.month.micros, 0);
    ledger.settle({ reservationId: early, outcome: 'no_usage' });
  });
}

test('a call reserved at 23:59 and settled after midnight counts in the day it was reserved', () => {
  const { db, ledger, clock, spend } = clockedLedger('UTC', { dailyUsd: 1 });
  const id = spend('g', 'Asia/Kolkata', 400_000, at(2026, 11, 24, 23, 59, 330));
  clock.now = at(2026, 11, 25, 0, 1, 330);
  ledger.settle({ reservationId: id, usage: { inputTokens: 5, cachedInputTokens: 0, outputTokens: 5 }, micros: 250_000, outcome: 'ok' });
  assert.equal(spendSummary(db, 'g', 'Asia/Kolkata', at(2026, 11, 24, 12, 0, 330), 'UTC').day.micros, 250_000);
  assert.equal(spendSummary(db, 'g', 'Asia/Kolkata', clock.now, 'UTC').day.micros, 0);
});

test("the global windows follow the host's zone, each group's its own", () => {
  const { db, spend } = clockedLedger('America/Los_Angeles', {});
  // 2026-11-25 03:00 UTC: already the 25th in Kolkata, still the 24th in Los Angeles.
  const when = Date.UTC(2026, 10, 25, 3);
  spend('g', 'Asia/Kolkata', 100, when);
  const s = spendSummary(db, 'g', 'Asia/Kolkata', when, 'America/Los_Angeles');
  assert.deepEqual([s.day.key, s.global.day.key, s.global.timezone], ['2026-11-25', '2026-11-24', 'America/Los_Angeles']);
  assert.equal(s.global.day.openMicros, 100);
  const w = budgetWindows('America/Los_Angeles', when);
  assert.equal(iso(w.day.end), '2026-11-25T08:00:00.000Z');
});

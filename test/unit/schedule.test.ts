import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLocalTime, nextRunAfter, parseSchedule, ScheduleError } from '../../src/scheduler/schedule.js';

const utc = (iso: string) => Date.parse(iso);
/** Thursday 2026-03-05, 12:00 UTC: Los Angeles moves its clocks forward on Sunday 2026-03-08. */
const NOW = utc('2026-03-05T12:00:00Z');

function runsOf(spec: string, timezone: string, from: number, count: number): string[] {
  const first = parseSchedule({ cron: spec }, timezone, from).firstRunAt;
  const runs = [first];
  while (runs.length < count) runs.push(nextRunAfter({ kind: 'cron', spec, timezone, nextRunAt: runs.at(-1)! }, runs.at(-1)!)!);
  return runs.map((t) => new Date(t).toISOString());
}

test('a weekday 09:00 cron runs at 09:00 local time in Kolkata and in Los Angeles, across a DST change', () => {
  assert.deepEqual(runsOf('0 9 * * 1-5', 'Asia/Kolkata', NOW, 3), [
    '2026-03-06T03:30:00.000Z', // Friday 09:00 IST (UTC+5:30); Thursday's 09:00 had passed
    '2026-03-09T03:30:00.000Z', // Monday: the weekend is skipped
    '2026-03-10T03:30:00.000Z',
  ]);
  assert.deepEqual(runsOf('0 9 * * 1-5', 'America/Los_Angeles', NOW, 3), [
    '2026-03-05T17:00:00.000Z', // Thursday 09:00 PST (UTC-8)
    '2026-03-06T17:00:00.000Z',
    '2026-03-09T16:00:00.000Z', // Monday 09:00 PDT (UTC-7): the clocks moved on Sunday
  ]);
});

test('cron expressions: six fields allowed, invalid, never-running and too frequent ones refused', () => {
  assert.equal(parseSchedule({ cron: '30 0 9 * * *' }, 'UTC', NOW).firstRunAt, utc('2026-03-06T09:00:30Z'));
  assert.throws(() => parseSchedule({ cron: '61 9 * * *' }, 'UTC', NOW), (e: Error) => e instanceof ScheduleError && /invalid cron expression "61 9 \* \* \*"/.test(e.message));
  assert.throws(() => parseSchedule({ cron: 'every morning' }, 'UTC', NOW), /invalid cron expression/);
  assert.throws(() => parseSchedule({ cron: '0 0 30 2 *' }, 'UTC', NOW), /never runs/);
  assert.throws(() => parseSchedule({ cron: '*/10 * * * * *' }, 'UTC', NOW), /more often than once a minute/);
  assert.throws(() => parseSchedule({ cron: '0,30 0 9 * * *' }, 'UTC', NOW), /more often than once a minute/);
  assert.throws(() => parseSchedule({ cron: '0 9 * * *' }, 'Mars/Olympus', NOW), /not an IANA time zone/);
});

test('intervals: units and combinations, a one-minute floor, a one-year ceiling, anchored slots', () => {
  assert.deepEqual(parseSchedule({ every: '30m' }, 'UTC', NOW), { kind: 'interval', spec: '30m', firstRunAt: NOW + 30 * 60_000 });
  assert.deepEqual(parseSchedule({ every: ' 1H 30m ' }, 'UTC', NOW), { kind: 'interval', spec: '1h30m', firstRunAt: NOW + 90 * 60_000 });
  assert.equal(parseSchedule({ every: '90s' }, 'UTC', NOW).firstRunAt, NOW + 90_000);
  assert.equal(parseSchedule({ every: '1d' }, 'UTC', NOW).firstRunAt, NOW + 86_400_000);
  assert.throws(() => parseSchedule({ every: '30s' }, 'UTC', NOW), /too short: the minimum is 1 minute/);
  assert.throws(() => parseSchedule({ every: '400d' }, 'UTC', NOW), /too long/);
  assert.throws(() => parseSchedule({ every: 'hourly' }, 'UTC', NOW), /is not an interval/);
  assert.throws(() => parseSchedule({ every: '-5m' }, 'UTC', NOW), /is not an interval/);

  const hour = 3_600_000;
  const task = { kind: 'interval' as const, spec: '1h', timezone: 'UTC', nextRunAt: NOW };
  assert.equal(nextRunAfter(task, NOW), NOW + hour, 'the slot after the one that ran');
  assert.equal(nextRunAfter(task, NOW + 2.5 * hour), NOW + 3 * hour, 'a late run does not shift later slots');
  assert.equal(nextRunAfter({ ...task, nextRunAt: NOW + hour }, NOW), NOW + hour, 'a future slot stays');
  assert.equal(nextRunAfter({ kind: 'once', spec: 'x', timezone: 'UTC', nextRunAt: NOW }, NOW), null);
});

test('one-shot times: local to the group zone or with an offset; past, far future and skipped times refused', () => {
  assert.deepEqual(parseSchedule({ at: '2026-03-06T09:00' }, 'Asia/Kolkata', NOW), {
    kind: 'once',
    spec: '2026-03-06T03:30:00.000Z',
    firstRunAt: utc('2026-03-06T03:30:00Z'),
  });
  assert.equal(parseSchedule({ at: '2026-03-06 09:00:30' }, 'America/Los_Angeles', NOW).firstRunAt, utc('2026-03-06T17:00:30Z'));
  assert.equal(parseSchedule({ at: '2026-03-06T09:00+01:00' }, 'Asia/Kolkata', NOW).firstRunAt, utc('2026-03-06T08:00:00Z'), 'an offset wins over the zone');
  assert.equal(parseSchedule({ at: '2026-03-06T09:00:00Z' }, 'Asia/Kolkata', NOW).firstRunAt, utc('2026-03-06T09:00:00Z'));
  assert.equal(parseSchedule({ at: '2026-11-01T01:30' }, 'America/Los_Angeles', NOW).firstRunAt, utc('2026-11-01T08:30:00Z'), 'a repeated hour: the first one');
  assert.throws(() => parseSchedule({ at: '2026-03-08T02:30' }, 'America/Los_Angeles', NOW), /does not exist in America\/Los_Angeles/);

  assert.equal(parseSchedule({ at: '2026-03-05T11:58:00Z' }, 'UTC', NOW).firstRunAt, utc('2026-03-05T11:58:00Z'), 'a small skew is tolerated');
  assert.throws(() => parseSchedule({ at: '2026-03-05T11:00' }, 'UTC', NOW), /is in the past \(it is now 2026-03-05 12:00 UTC\)/);
  assert.throws(() => parseSchedule({ at: '2027-04-01T09:00' }, 'UTC', NOW), /more than a year from now/);
  assert.throws(() => parseSchedule({ at: '2026-02-30T09:00' }, 'UTC', NOW), /not a valid date and time/);
  assert.throws(() => parseSchedule({ at: 'tomorrow 9:00' }, 'UTC', NOW), /is not a time: use ISO 8601/);
});

test('exactly one kind of schedule is accepted', () => {
  assert.throws(() => parseSchedule({}, 'UTC', NOW), /give exactly one of/);
  assert.throws(() => parseSchedule({ cron: '  ' }, 'UTC', NOW), /give exactly one of/);
  assert.throws(() => parseSchedule({ cron: '0 9 * * *', every: '1h' }, 'UTC', NOW), /give exactly one of/);
  assert.throws(() => parseSchedule({ every: `${'1'.repeat(300)}m` }, 'UTC', NOW), /too long/);
});

test('times are shown in the task zone', () => {
  assert.equal(formatLocalTime(utc('2026-03-06T03:30:00Z'), 'Asia/Kolkata'), '2026-03-06 09:00 GMT+5:30');
  assert.equal(formatLocalTime(utc('2026-03-09T16:00:00Z'), 'America/Los_Angeles'), '2026-03-09 09:00 PDT');
});

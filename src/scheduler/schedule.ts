import { Cron } from 'croner';
import { zoneOffsetMs } from '../time/local-time.js';
import { isValidTimezone } from '../config/groups.js';

export type TaskKind = 'cron' | 'interval' | 'once';

/** Exactly one of the three: a cron expression, an interval such as '2h', or one point in time. */
export interface ScheduleInput {
  cron?: string;
  every?: string;
  at?: string;
}

export interface ParsedSchedule {
  kind: TaskKind;
  /** What is stored: the cron expression, the interval ('1h30m') or the instant as ISO 8601 UTC. */
  spec: string;
  firstRunAt: number;
}

/** What the next run of a stored task depends on. */
export interface ScheduledTask {
  kind: TaskKind;
  spec: string;
  timezone: string;
  /** The slot the task is (or was last) due at; intervals are anchored to it so they do not drift. */
  nextRunAt: number | null;
}

/** A schedule a person or the agent got wrong; the message says what to fix. */
export class ScheduleError extends Error {}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** No task runs more often than this: every run is a model turn that costs money. */
export const MIN_INTERVAL_MS = MINUTE;
/** Nothing is scheduled further ahead than this (one-shot times and intervals alike). */
export const MAX_AHEAD_MS = 366 * DAY;
/** A one-shot time this little in the past is taken as "now" (clocks and the agent's arithmetic differ). */
export const PAST_SKEW_MS = 5 * MINUTE;
const MAX_SPEC_CHARS = 200;
/** Runs checked when validating a cron expression's spacing. */
const CRON_PROBE_RUNS = 4;

const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };
const INTERVAL_RE = /^(?:\d{1,6}[smhd])+$/;
const INTERVAL_PART_RE = /(\d+)([smhd])/g;
const OFFSET_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/i;

export function parseSchedule(input: ScheduleInput, timezone: string, now: number): ParsedSchedule {
  if (!isValidTimezone(timezone)) throw new ScheduleError(`"${timezone}" is not an IANA time zone`);
  const given = (['cron', 'every', 'at'] as const).filter((k) => input[k] !== undefined && input[k].trim() !== '');
  if (given.length !== 1) {
    throw new ScheduleError('give exactly one of: cron (e.g. "0 9 * * 1-5"), every (e.g. "2h") or at (e.g. "2026-12-01T09:00")');
  }
  const key = given[0]!;
  const value = input[key]!.trim();
  if (value.length > MAX_SPEC_CHARS) throw new ScheduleError(`the ${key} value is too long (at most ${MAX_SPEC_CHARS} characters)`);
  if (key === 'cron') return parseCron(value, timezone, now);
  if (key === 'every') return parseEvery(value, now);
  return parseAt(value, timezone, now);
}

/** The first slot strictly after `after`, or null when the task has no further run. */
export function nextRunAfter(task: ScheduledTask, after: number): number | null {
  if (task.kind === 'once') return null;
  if (task.kind === 'interval') {
    const every = intervalMs(task.spec);
    const anchor = task.nextRunAt ?? after;
    if (anchor > after) return anchor;
    return anchor + (Math.floor((after - anchor) / every) + 1) * every;
  }
  return cronJob(task.spec, task.timezone).nextRun(new Date(after))?.getTime() ?? null;
}

/** 'cron 0 9 * * 1-5', 'every 2h', 'once' — for lists and messages. */
export function describeSchedule(task: Pick<ScheduledTask, 'kind' | 'spec'>): string {
  if (task.kind === 'cron') return `cron ${task.spec}`;
  if (task.kind === 'interval') return `every ${task.spec}`;
  return 'once';
}

/** '2026-03-09 09:00 PDT' in the given zone. */
export function formatLocalTime(at: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

function parseCron(expr: string, timezone: string, now: number): ParsedSchedule {
  let job: Cron;
  try {
    job = cronJob(expr, timezone);
  } catch (err) {
    throw new ScheduleError(`invalid cron expression "${expr}": ${(err as Error).message.replace(/^CronPattern: /, '')}`, { cause: err });
  }
  const runs = job.nextRuns(CRON_PROBE_RUNS, new Date(now)).map((d) => d.getTime());
  if (runs.length === 0) throw new ScheduleError(`the cron expression "${expr}" never runs`);
  if (runs[0]! - now > MAX_AHEAD_MS) throw new ScheduleError(`the cron expression "${expr}" first runs more than a year from now`);
  for (let i = 1; i < runs.length; i++) {
    if (runs[i]! - runs[i - 1]! < MIN_INTERVAL_MS) {
      throw new ScheduleError(`the cron expression "${expr}" runs more often than once a minute`);
    }
  }
  return { kind: 'cron', spec: expr, firstRunAt: runs[0]! };
}

function parseEvery(value: string, now: number): ParsedSchedule {
  const spec = value.toLowerCase().replace(/\s+/g, '');
  if (!INTERVAL_RE.test(spec)) {
    throw new ScheduleError(`"${value}" is not an interval: use a number and a unit s, m, h or d, such as 30m, 2h, 1d or 1h30m`);
  }
  const every = intervalMs(spec);
  if (every < MIN_INTERVAL_MS) throw new ScheduleError(`the interval ${spec} is too short: the minimum is 1 minute`);
  if (every > MAX_AHEAD_MS) throw new ScheduleError(`the interval ${spec} is too long: the maximum is 366 days`);
  return { kind: 'interval', spec, firstRunAt: now + every };
}

function parseAt(value: string, timezone: string, now: number): ParsedSchedule {
  const at = parseInstant(value, timezone);
  if (at < now - PAST_SKEW_MS) {
    throw new ScheduleError(`${value} is in the past (it is now ${formatLocalTime(now, timezone)})`);
  }
  if (at - now > MAX_AHEAD_MS) throw new ScheduleError(`${value} is more than a year from now`);
  return { kind: 'once', spec: new Date(at).toISOString(), firstRunAt: at };
}

function parseInstant(value: string, timezone: string): number {
  if (OFFSET_TIME_RE.test(value)) {
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new ScheduleError(`"${value}" is not a valid date and time`);
    return at;
  }
  const m = LOCAL_TIME_RE.exec(value);
  if (!m) {
    throw new ScheduleError(
      `"${value}" is not a time: use ISO 8601, either local to the group's time zone (2026-12-01T09:00) or with an offset (2026-12-01T09:00+01:00)`,
    );
  }
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new ScheduleError(`"${value}" is not a valid date and time`);
  }
  return wallClockToInstant(wall, timezone, value);
}

/**
 * The instant at which the zone's clocks show `wall` (a wall-clock time written as if it were UTC).
 * Of a time that occurs twice (clocks going back) the first; a time the clocks skip is refused.
 */
function wallClockToInstant(wall: number, timezone: string, shown: string): number {
  const offsets = new Set([zoneOffsetMs(wall - DAY, timezone), zoneOffsetMs(wall + DAY, timezone)]);
  const matches = [...offsets].map((offset) => wall - offset).filter((at) => zoneOffsetMs(at, timezone) === wall - at);
  if (matches.length === 0) {
    throw new ScheduleError(`${shown} does not exist in ${timezone}: the clocks skip it (daylight saving); pick another time`);
  }
  return Math.min(...matches);
}

function intervalMs(spec: string): number {
  let total = 0;
  for (const [, amount, unit] of spec.matchAll(INTERVAL_PART_RE)) total += Number(amount) * UNIT_MS[unit!]!;
  if (total <= 0) throw new ScheduleError(`"${spec}" is not an interval`);
  return total;
}

function cronJob(expr: string, timezone: string): Cron {
  return new Cron(expr, { timezone, paused: true, mode: '5-or-6-parts' });
}

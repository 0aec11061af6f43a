import { localTime } from '../time/local-time.js';
import type { BudgetPeriod } from './types.js';

/** One budget window: [start, end) in ms since the epoch, named by its local date. */
export interface BudgetWindow {
  period: BudgetPeriod;
  /** '2026-11-24' for a day, '2026-11' for a month (local dates of the zone). */
  key: string;
  start: number;
  end: number;
}

export interface BudgetWindows {
  day: BudgetWindow;
  month: BudgetWindow;
}

const DAY_MS = 86_400_000;

const current = new Map<string, BudgetWindows>();

/**
 * Windows of the day and the month that contain `ms`, in `timezone` (IANA name). Finding a window
 * takes tens of microseconds of Intl work, so the last answer per zone is kept (frozen) and reused
 * while `ms` stays inside it: every reservation asks for the same windows all day long.
 */
export function budgetWindows(timezone: string, ms: number): BudgetWindows {
  const last = current.get(timezone);
  if (last && contains(last.day, ms) && contains(last.month, ms)) return last;
  const found: BudgetWindows = Object.freeze({ day: Object.freeze(dayWindow(timezone, ms)), month: Object.freeze(monthWindow(timezone, ms)) });
  current.set(timezone, found);
  return found;
}

function contains(window: BudgetWindow, ms: number): boolean {
  return ms >= window.start && ms < window.end;
}

export function dayWindow(timezone: string, ms: number): BudgetWindow {
  const t = localTime(timezone, ms);
  let date = Date.UTC(t.year, t.month - 1, t.day);
  let window = dayWindowOf(timezone, date);
  // Only where clocks fall back across midnight can an instant's local date point at the day before.
  while (ms >= window.end) {
    date += DAY_MS;
    window = dayWindowOf(timezone, date);
  }
  return window;
}

export function monthWindow(timezone: string, ms: number): BudgetWindow {
  const t = localTime(timezone, ms);
  let year = t.year;
  let month = t.month;
  let window = monthWindowOf(timezone, year, month);
  while (ms >= window.end) {
    [year, month] = month === 12 ? [year + 1, 1] : [year, month + 1];
    window = monthWindowOf(timezone, year, month);
  }
  return window;
}

function dayWindowOf(timezone: string, utcDate: number): BudgetWindow {
  const d = new Date(utcDate);
  const key = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  return { period: 'day', key, start: startOfLocalDate(timezone, utcDate), end: startOfLocalDate(timezone, utcDate + DAY_MS) };
}

function monthWindowOf(timezone: string, year: number, month: number): BudgetWindow {
  return {
    period: 'month',
    key: `${year}-${pad2(month)}`,
    start: startOfLocalDate(timezone, Date.UTC(year, month - 1, 1)),
    end: startOfLocalDate(timezone, Date.UTC(year, month, 1)),
  };
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(timezone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000;
  const t = localTime(timezone, whole);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - whole;
}

/**
 * The first instant whose local date in the zone is the given date (passed as that date's UTC
 * midnight). Usually local 00:00; where a DST gap swallows midnight, the end of the gap.
 * Each candidate applies an offset the zone has near that date; the earliest one that already
 * shows the date (or a later one, for a skipped day) is where the day begins.
 */
function startOfLocalDate(timezone: string, utcDate: number): number {
  const candidates = [...new Set([-DAY_MS, 0, DAY_MS].map((delta) => utcDate - offsetAt(timezone, utcDate + delta)))].sort((a, b) => a - b);
  for (const t of candidates) {
    const local = localTime(timezone, t);
    if (Date.UTC(local.year, local.month - 1, local.day) >= utcDate) return t;
  }
  return candidates[candidates.length - 1]!;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

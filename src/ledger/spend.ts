import { hostTimezone as systemTimezone } from '../config/groups.js';
import type { Db } from '../db/database.js';
import { budgetWindows, type BudgetWindow } from './windows.js';

/** What one window holds: settled spend, and reservations of calls that have not settled yet. */
export interface WindowSpend extends BudgetWindow {
  micros: number;
  tokens: number;
  openMicros: number;
  openTokens: number;
}

export interface SpendSummary {
  timezone: string;
  day: WindowSpend;
  month: WindowSpend;
  /** All groups together, in the host's time zone. */
  global: { timezone: string; day: WindowSpend; month: WindowSpend };
}

interface SpendRow {
  micros: number;
  tokens: number;
  openMicros: number;
  openTokens: number;
}

// A settle row counts in the window of its reservation (window_at); an unsettled reserve row counts as open.
const OPEN = `kind = 'reserve' AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle')`;
const TOTALS = `
  SELECT
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN micros END), 0) AS micros,
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN tokens END), 0) AS tokens,
    COALESCE(SUM(CASE WHEN ${OPEN} THEN micros END), 0) AS openMicros,
    COALESCE(SUM(CASE WHEN ${OPEN} THEN tokens END), 0) AS openTokens
  FROM ledger l`;

/** Spend in one window for one group, or for all groups when `group` is undefined. */
export function windowSpend(db: Db, group: string | undefined, window: BudgetWindow): WindowSpend {
  const row =
    group === undefined
      ? db.prepare<[number, number], SpendRow>(`${TOTALS} WHERE window_at >= ? AND window_at < ?`).get(window.start, window.end)
      : db.prepare<[string, number, number], SpendRow>(`${TOTALS} WHERE group_name = ? AND window_at >= ? AND window_at < ?`).get(group, window.start, window.end);
  return { ...window, ...row! };
}

/** Today's and this month's spend of a group (its zone) and of all groups (the host's zone). Used by /budget, /status and `enclave usage`. */
export function spendSummary(db: Db, group: string, timezone: string, now: number, hostTimezone: string = systemTimezone()): SpendSummary {
  const own = budgetWindows(timezone, now);
  const host = budgetWindows(hostTimezone, now);
  return {
    timezone,
    day: windowSpend(db, group, own.day),
    month: windowSpend(db, group, own.month),
    global: { timezone: hostTimezone, day: windowSpend(db, undefined, host.day), month: windowSpend(db, undefined, host.month) },
  };
}

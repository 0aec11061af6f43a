import { hostTimezone as systemTimezone } from '../config/groups.js';
import type { Db } from '../db/database.js';
import { readTotals } from './ledger-totals.js';
import { GLOBAL_SCOPE, groupScope } from './limits.js';
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

/** Spend in one window for one group, or for all groups when `group` is undefined (from the running totals). */
export function windowSpend(db: Db, group: string | undefined, window: BudgetWindow): WindowSpend {
  return { ...window, ...readTotals(db, group === undefined ? GLOBAL_SCOPE : groupScope(group), window) };
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

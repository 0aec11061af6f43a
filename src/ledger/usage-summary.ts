import type { BudgetLimits } from '../config/schema.js';
import type { Db } from '../db/database.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope, type PeriodLimits, type WindowLimits } from './limits.js';
import { spendSummary, windowSpend, type WindowSpend } from './spend.js';
import { budgetWindows } from './windows.js';

/** One window of `enclave usage`: settled and reserved spend against the limits (micro-dollars and tokens). */
export interface UsageWindow {
  key: string;
  start: number;
  resetsAt: number;
  micros: number;
  openMicros: number;
  tokens: number;
  openTokens: number;
  limitMicros: number | null;
  limitTokens: number | null;
}

export interface UsageScope {
  name: string;
  timezone: string;
  /** False for a group that has spend in the ledger but no folder any more (shown in the host's zone). */
  configured: boolean;
  day: UsageWindow;
  month: UsageWindow;
}

export interface UsageSummary {
  at: number;
  groups: UsageScope[];
  /** All groups together, in the host's time zone. */
  global: UsageScope;
}

export interface UsageGroup {
  name: string;
  timezone: string;
  budget: BudgetLimits;
}

export interface CollectUsageOptions {
  groups: readonly UsageGroup[];
  globalLimits: BudgetLimits;
  hostTimezone: string;
  now: number;
}

/** Today's and this month's spend of every group and of all of them, for `enclave usage`. */
export function collectUsage(db: Db, opts: CollectUsageOptions): UsageSummary {
  const { now, hostTimezone } = opts;
  const groups = opts.groups.map((g): UsageScope => {
    const spend = spendSummary(db, g.name, g.timezone, now, hostTimezone);
    return scope(g.name, g.timezone, true, spend.day, spend.month, effectiveLimits(db, groupScope(g.name), g.budget));
  });
  const known = new Set(opts.groups.map((g) => g.name));
  const host = budgetWindows(hostTimezone, now);
  const noLimits: WindowLimits = { day: { usd: null, tokens: null }, month: { usd: null, tokens: null } };
  for (const { name } of db.prepare<[], { name: string }>('SELECT DISTINCT group_name AS name FROM ledger ORDER BY group_name').all()) {
    if (known.has(name)) continue;
    const month = windowSpend(db, name, host.month);
    if (month.micros + month.openMicros + month.tokens + month.openTokens === 0) continue;
    groups.push(scope(name, hostTimezone, false, windowSpend(db, name, host.day), month, noLimits));
  }
  const globalLimits = effectiveLimits(db, GLOBAL_SCOPE, opts.globalLimits);
  const global = scope('all groups', hostTimezone, true, windowSpend(db, undefined, host.day), windowSpend(db, undefined, host.month), globalLimits);
  return { at: now, groups, global };
}

function scope(name: string, timezone: string, configured: boolean, day: WindowSpend, month: WindowSpend, limits: WindowLimits): UsageScope {
  return { name, timezone, configured, day: usageWindow(day, limits.day), month: usageWindow(month, limits.month) };
}

function usageWindow(spend: WindowSpend, limits: PeriodLimits): UsageWindow {
  return {
    key: spend.key,
    start: spend.start,
    resetsAt: spend.end,
    micros: spend.micros,
    openMicros: spend.openMicros,
    tokens: spend.tokens,
    openTokens: spend.openTokens,
    limitMicros: limits.usd,
    limitTokens: limits.tokens,
  };
}

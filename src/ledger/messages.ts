import { formatTokens, formatUsd } from './money.js';
import type { BudgetPeriod, BudgetUnit } from './types.js';
import { localTime } from '../time/local-time.js';

/** The sentences people read about budgets: refusals, threshold notices, resets. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "less than a minute", "12 min", "3 h 12 min", "1 day 3 h". */
export function formatDuration(ms: number): string {
  if (ms < MINUTE) return 'less than a minute';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min`;
  if (ms < DAY) {
    const hours = Math.floor(ms / HOUR);
    const minutes = Math.floor((ms % HOUR) / MINUTE);
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  const days = Math.floor(ms / DAY);
  const hours = Math.floor((ms % DAY) / HOUR);
  return `${days} ${days === 1 ? 'day' : 'days'}${hours ? ` ${hours} h` : ''}`;
}

const dayMonth = new Map<string, Intl.DateTimeFormat>();

/** "at 00:00 Asia/Kolkata (in 3 h 12 min)" for a day; "on 1 Dec at 00:00 UTC (in 6 days 3 h)" for a month. */
export function describeReset(period: BudgetPeriod, timezone: string, resetsAt: number, now: number): string {
  const t = localTime(timezone, resetsAt);
  const clock = `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
  let on = '';
  if (period === 'month') {
    let f = dayMonth.get(timezone);
    if (!f) dayMonth.set(timezone, (f = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, day: 'numeric', month: 'short' })));
    on = `on ${f.format(resetsAt)} `;
  }
  return `${on}at ${clock} ${timezone} (in ${formatDuration(resetsAt - now)})`;
}

export function formatAmount(unit: BudgetUnit, amount: number): string {
  return unit === 'usd' ? formatUsd(amount) : formatTokens(amount);
}

const ADJECTIVE: Record<BudgetPeriod, string> = { day: 'daily', month: 'monthly' };

export interface BudgetFacts {
  scope: 'group' | 'global';
  period: BudgetPeriod;
  unit: BudgetUnit;
  /** Micro-dollars or tokens. */
  spent: number;
  limit: number;
  timezone: string;
  resetsAt: number;
  now: number;
}

function who(scope: 'group' | 'global'): string {
  return scope === 'group' ? 'This group has' : 'All groups together have';
}

function budgetName(f: BudgetFacts): string {
  const whose = f.scope === 'group' ? 'its' : 'the';
  return f.unit === 'usd'
    ? `${whose} ${formatUsd(f.limit)} ${ADJECTIVE[f.period]} budget`
    : `${whose} ${ADJECTIVE[f.period]} limit of ${formatTokens(f.limit)}`;
}

/** "This group has spent $2.49 of its $2.50 daily budget; it resets at 00:00 Asia/Kolkata (in 3 h 12 min)." */
export function refusalMessage(f: BudgetFacts & { request: number }): string {
  const verb = f.unit === 'usd' ? 'spent' : 'used';
  const call = f.spent < f.limit ? `, and this call could ${f.unit === 'usd' ? 'cost' : 'use'} up to ${formatAmount(f.unit, f.request)}` : '';
  return `${who(f.scope)} ${verb} ${formatAmount(f.unit, f.spent)} of ${budgetName(f)}${call}; it resets ${describeReset(f.period, f.timezone, f.resetsAt, f.now)}.`;
}

/** The notice at 50 %, 80 % or 100 % of a limit. */
export function thresholdMessage(f: BudgetFacts & { level: number }): string {
  const spent = `${formatAmount(f.unit, f.spent)} ${f.unit === 'usd' ? 'spent' : 'used'}`;
  const reset = describeReset(f.period, f.timezone, f.resetsAt, f.now);
  if (f.level >= 100) {
    return `${who(f.scope)} used all of ${budgetName(f)} (${spent}); new requests are refused until it resets ${reset}.`;
  }
  return `${who(f.scope)} used ${f.level}% of ${budgetName(f)} (${spent}); it resets ${reset}.`;
}

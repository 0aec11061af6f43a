import type { BudgetLimits } from '../config/schema.js';
import type { Db } from '../db/database.js';
import { MAX_USD, parseUsd, usdToMicros } from './money.js';
import type { BudgetPeriod, BudgetUnit } from './types.js';

/** One window's limits: micro-dollars and tokens; null = no limit of that kind. */
export type PeriodLimits = Record<BudgetUnit, number | null>;
export type WindowLimits = Record<BudgetPeriod, PeriodLimits>;

/** budget_limits.scope of the limit across all groups; a group's is groupScope(name). */
export const GLOBAL_SCOPE = 'global';
export const groupScope = (group: string): string => `group:${group}`;

export const PERIODS: readonly BudgetPeriod[] = ['day', 'month'];
export const UNITS: readonly BudgetUnit[] = ['usd', 'tokens'];

const MAX_TOKENS = 1_000_000_000_000;

export function limitsFromConfig(cfg: BudgetLimits): WindowLimits {
  const micros = (usd: number | undefined) => (usd === undefined ? null : usdToMicros(usd));
  return {
    day: { usd: micros(cfg.dailyUsd), tokens: cfg.dailyTokens ?? null },
    month: { usd: micros(cfg.monthlyUsd), tokens: cfg.monthlyTokens ?? null },
  };
}

/** The configured limits, each replaced by the newest owner change of the same scope, period and unit. */
export function effectiveLimits(db: Db, scope: string, configured: BudgetLimits): WindowLimits {
  const limits = limitsFromConfig(configured);
  const rows = db
    .prepare<[string], { period: BudgetPeriod; unit: BudgetUnit; amount: number | null }>(
      `SELECT period, unit, amount FROM budget_limits b
       WHERE scope = ? AND id = (SELECT MAX(id) FROM budget_limits n WHERE n.scope = b.scope AND n.period = b.period AND n.unit = b.unit)`,
    )
    .all(scope);
  for (const row of rows) limits[row.period][row.unit] = row.amount;
  return limits;
}

/** Records an owner's change (amount in micro-dollars or tokens; null = no limit). Rows are never changed. */
export function setLimit(db: Db, scope: string, period: BudgetPeriod, unit: BudgetUnit, amount: number | null, setBy: string, at: number): void {
  if (amount !== null && !(Number.isSafeInteger(amount) && amount >= 0)) throw new Error(`a budget limit must be a whole number >= 0, not ${amount}`);
  db.prepare('INSERT INTO budget_limits (scope, period, unit, amount, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?)').run(scope, period, unit, amount, setBy, at);
}

export interface BudgetChange {
  scope: 'group' | 'global';
  period: BudgetPeriod;
  unit: BudgetUnit;
  /** Micro-dollars or tokens; null removes the limit. */
  amount: number | null;
}

export type ParsedBudgetChange = { ok: true; change: BudgetChange } | { ok: false; error: string };

export const BUDGET_SET_USAGE =
  'Usage: /budget set [global] daily|monthly [tokens] <amount|off>, e.g. /budget set daily 2.50, /budget set monthly 20, /budget set daily tokens 200000, /budget set daily off';

const PERIOD_WORDS: Record<string, BudgetPeriod> = { daily: 'day', day: 'day', monthly: 'month', month: 'month' };
const UNIT_WORDS: Record<string, BudgetUnit> = { usd: 'usd', $: 'usd', dollars: 'usd', tokens: 'tokens', token: 'tokens' };
const OFF_WORDS = new Set(['off', 'none', 'unlimited']);

/** The words after `/budget set`: `daily 2.50`, `monthly 20`, `daily tokens 200000`, `daily off`, `global monthly 50`. */
export function parseBudgetSetArgs(args: readonly string[]): ParsedBudgetChange {
  const words = args.map((a) => a.toLowerCase());
  const scope = words[0] === 'global' ? 'global' : 'group';
  if (scope === 'global') words.shift();
  const period = PERIOD_WORDS[words[0] ?? ''];
  if (!period) return { ok: false, error: `Say which budget: daily or monthly.\n${BUDGET_SET_USAGE}` };
  const unit = words.length > 2 ? UNIT_WORDS[words[1]!] : 'usd';
  if (!unit) return { ok: false, error: `"${args[args.length - 2]}" is not a unit; use tokens (or leave it out for USD).\n${BUDGET_SET_USAGE}` };
  if (words.length < 2 || (words.length === 2 && UNIT_WORDS[words[1]!])) return { ok: false, error: `Say the new limit, or off.\n${BUDGET_SET_USAGE}` };
  if (words.length > 3) return { ok: false, error: `Too many words.\n${BUDGET_SET_USAGE}` };
  const value = words[words.length - 1]!;
  if (OFF_WORDS.has(value)) return { ok: true, change: { scope, period, unit, amount: null } };
  const amount = unit === 'usd' ? parseUsd(value) : parseTokens(value);
  if (amount === undefined) {
    const expected = unit === 'usd' ? `an amount in USD from 0 to ${MAX_USD.toLocaleString('en-US')} with at most 6 decimals, such as 2.50` : 'a whole number of tokens, such as 200000 or 200k';
    return { ok: false, error: `"${args[args.length - 1]}" is not ${expected}, or off.` };
  }
  return { ok: true, change: { scope, period, unit, amount } };
}

/** "200000", "200k", "1.5m" -> tokens. */
function parseTokens(text: string): number | undefined {
  const match = /^(?:(\d+)|(\d+(?:\.\d+)?)([km]))$/.exec(text);
  if (!match) return undefined;
  const tokens = match[1] !== undefined ? Number(match[1]) : Math.round(Number(match[2]) * (match[3] === 'k' ? 1_000 : 1_000_000));
  return tokens <= MAX_TOKENS ? tokens : undefined;
}

import { describeReset } from './messages.js';
import { formatUsd } from './money.js';
import type { PeriodLimits, WindowLimits } from './limits.js';
import type { SpendSummary, WindowSpend } from './spend.js';

export interface BudgetReportInput {
  group: string;
  spend: SpendSummary;
  /** The group's effective limits. */
  limits: WindowLimits;
  globalLimits: WindowLimits;
  now: number;
}

/** The /budget reply: today and this month against the limits, calls in flight, when each resets. */
export function budgetReport(input: BudgetReportInput): string {
  const { spend, limits, globalLimits, now } = input;
  const lines = [
    `Budget of ${input.group} (time zone ${spend.timezone})`,
    `Today (${spend.day.key}): ${amounts(spend.day, limits.day)}; resets ${describeReset('day', spend.timezone, spend.day.end, now)}`,
    `This month (${spend.month.key}): ${amounts(spend.month, limits.month)}; resets ${describeReset('month', spend.timezone, spend.month.end, now)}`,
  ];
  if (spend.month.openMicros > 0 || spend.month.openTokens > 0) {
    lines.push(`Calls in flight: up to ${formatUsd(spend.month.openMicros)} reserved (it counts against the limits until they finish)`);
  }
  const global = spend.global;
  lines.push(`All groups (${global.timezone}): today ${amounts(global.day, globalLimits.day)}; this month ${amounts(global.month, globalLimits.month)}`);
  return lines.join('\n');
}

/** "$0.42 of $2.50 (16%), 12,345 tokens" or "$0.42 (no limit), 1,200 of 200,000 tokens (0%)". */
export function amounts(spend: WindowSpend, limits: PeriodLimits): string {
  const usd = limits.usd === null ? `${formatUsd(spend.micros)} (no limit)` : `${formatUsd(spend.micros)} of ${formatUsd(limits.usd)}${percent(spend.micros, limits.usd)}`;
  const count = spend.tokens.toLocaleString('en-US');
  const tokens = limits.tokens === null ? `${count} tokens` : `${count} of ${limits.tokens.toLocaleString('en-US')} tokens${percent(spend.tokens, limits.tokens)}`;
  return `${usd}, ${tokens}`;
}

function percent(spent: number, limit: number): string {
  return limit > 0 ? ` (${Math.floor((spent * 100) / limit)}%)` : '';
}

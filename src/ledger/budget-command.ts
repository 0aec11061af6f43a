import type { GroupConfig } from '../config/groups.js';
import type { BudgetLimits } from '../config/schema.js';
import type { Db } from '../db/database.js';
import { budgetReport } from './budget-report.js';
import { BUDGET_SET_USAGE, effectiveLimits, GLOBAL_SCOPE, groupScope, parseBudgetSetArgs, setLimit, type BudgetChange } from './limits.js';
import { formatAmount } from './messages.js';
import { spendSummary } from './spend.js';

export interface BudgetCommandContext {
  db: Db;
  group: Pick<GroupConfig, 'name' | 'timezone' | 'budget'>;
  /** enclave.yaml budgets.global. */
  globalLimits: BudgetLimits;
  hostTimezone: string;
  /** Whether the sender is the owner: only the owner may change a limit. */
  isOwner: boolean;
  /** Recorded as budget_limits.set_by, e.g. 'telegram:123'. */
  actor: string;
  now: number;
}

export interface BudgetCommandResult {
  reply: string;
  /** Set when a limit changed (for the audit log): the new and the previous amount. */
  changed?: BudgetChange & { previous: number | null };
}

/** `/budget` shows spend against limits; the owner's `/budget set daily 2.50` changes a limit. */
export function budgetCommand(args: readonly string[], ctx: BudgetCommandContext): BudgetCommandResult {
  const { db, group, now } = ctx;
  const limits = () => effectiveLimits(db, groupScope(group.name), group.budget);
  const globalLimits = () => effectiveLimits(db, GLOBAL_SCOPE, ctx.globalLimits);
  if (args.length === 0) {
    const spend = spendSummary(db, group.name, group.timezone, now, ctx.hostTimezone);
    return { reply: budgetReport({ group: group.name, spend, limits: limits(), globalLimits: globalLimits(), now }) };
  }
  if (args[0]!.toLowerCase() !== 'set') return { reply: `/budget shows this group's spend. ${BUDGET_SET_USAGE}` };
  if (!ctx.isOwner) return { reply: 'Only the owner can change budgets.' };
  const parsed = parseBudgetSetArgs(args.slice(1));
  if (!parsed.ok) return { reply: parsed.error };
  const change = parsed.change;
  const scope = change.scope === 'global' ? GLOBAL_SCOPE : groupScope(group.name);
  const previous = (change.scope === 'global' ? globalLimits() : limits())[change.period][change.unit];
  setLimit(db, scope, change.period, change.unit, change.amount, ctx.actor, now);
  return { reply: changeSentence(change, previous), changed: { ...change, previous } };
}

function changeSentence(change: BudgetChange, previous: number | null): string {
  const whose = change.scope === 'global' ? 'all groups together' : 'this group';
  const what = `${change.period === 'day' ? 'daily' : 'monthly'} ${change.unit === 'usd' ? 'budget' : 'token limit'}`;
  const was = previous === null ? 'no limit' : formatAmount(change.unit, previous);
  const now = change.amount === null ? 'no limit' : formatAmount(change.unit, change.amount);
  return `The ${what} of ${whose} is now ${now} (was ${was}).`;
}

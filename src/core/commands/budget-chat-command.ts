import { budgetReport } from '../../ledger/budget-report.js';
import { BUDGET_SET_USAGE, parseBudgetSetArgs } from '../../ledger/limits.js';
import { formatAmount } from '../../ledger/messages.js';
import type { BudgetService, BudgetSet } from '../../services/budget-service.js';
import { groupOf, type CommandSpec } from './commands.js';

/** `/budget` shows spend against limits; the owner's `/budget set daily 2.50` changes a limit. */
export function budgetChatCommand(deps: { budget: BudgetService }): CommandSpec {
  return {
    name: 'budget',
    usage: '/budget [set daily|monthly <usd>|off]',
    help: "today's and this month's spend against the limits; the owner may change a limit",
    needsGroup: true,
    ownerOnly: (args) => args[0]?.toLowerCase() === 'set',
    run: (ctx, args) => {
      const group = groupOf(ctx);
      if (args.length === 0) return budgetReport(deps.budget.show(group));
      if (args[0]!.toLowerCase() !== 'set') return `/budget shows this group's spend. ${BUDGET_SET_USAGE}`;
      const parsed = parseBudgetSetArgs(args.slice(1));
      if (!parsed.ok) return parsed.error;
      return changeSentence(deps.budget.set(group, parsed.change, ctx.identity));
    },
  };
}

function changeSentence({ change, previous }: BudgetSet): string {
  const whose = change.scope === 'global' ? 'all groups together' : 'this group';
  const what = `${change.period === 'day' ? 'daily' : 'monthly'} ${change.unit === 'usd' ? 'budget' : 'token limit'}`;
  const was = previous === null ? 'no limit' : formatAmount(change.unit, previous);
  const now = change.amount === null ? 'no limit' : formatAmount(change.unit, change.amount);
  return `The ${what} of ${whose} is now ${now} (was ${was}).`;
}

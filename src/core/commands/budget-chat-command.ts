import type { AuditSink } from '../../audit/types.js';
import type { Config } from '../../config/load.js';
import { hostTimezone } from '../../config/groups.js';
import type { Db } from '../../db/database.js';
import { budgetCommand } from '../../ledger/budget-command.js';
import { groupOf, type CommandSpec } from './commands.js';

export function budgetChatCommand(deps: { db: Db; config: () => Config; audit: AuditSink; now?: () => number }): CommandSpec {
  return {
    name: 'budget',
    usage: '/budget [set daily|monthly <usd>|off]',
    help: "today's and this month's spend against the limits; the owner may change a limit",
    needsGroup: true,
    ownerOnly: (args) => args[0]?.toLowerCase() === 'set',
    run: (ctx, args) => {
      const group = groupOf(ctx);
      const result = budgetCommand(args, {
        db: deps.db,
        group,
        globalLimits: deps.config().enclave.budgets.global,
        hostTimezone: hostTimezone(),
        isOwner: ctx.owner,
        actor: ctx.identity,
        now: deps.now?.() ?? Date.now(),
      });
      if (result.changed) deps.audit.append({ kind: 'budget_change', group: group.name, actor: ctx.identity, detail: { ...result.changed } });
      return result.reply;
    },
  };
}

import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/database.js';
import { effectiveLimits, groupScope } from '../ledger/limits.js';
import { budgetNotices, refusalNoticeDue, refusalWindowKey } from '../ledger/notices.js';
import type { BudgetRefusal } from '../ledger/types.js';
import type { Logger } from '../logger.js';

export interface BudgetAlertDeps {
  db: Db;
  config: () => Config;
  /** Posts a host message to the chat the group is answering now (or its first chat). */
  tell: (group: string, text: string) => void;
  log: Logger;
  now: Clock;
}

/** The chat hears about its budget: one refusal message per window, and 50/80/100% once each. */
export function budgetAlerts(deps: BudgetAlertDeps) {
  const { now } = deps;
  return {
    onBudgetRefused(group: string, refusal: BudgetRefusal): void {
      if (!refusalNoticeDue(deps.db, group, refusalWindowKey(refusal), now())) return;
      deps.log.warn({ group, scope: refusal.scope, period: refusal.period }, 'model call refused: budget reached');
      deps.tell(group, refusal.message);
    },
    onSettled(group: string): void {
      const cfg = deps.config().groups.get(group);
      if (!cfg) return;
      const limits = effectiveLimits(deps.db, groupScope(group), cfg.budget);
      for (const notice of budgetNotices(deps.db, group, cfg.timezone, now(), limits)) deps.tell(group, notice.message);
    },
  };
}

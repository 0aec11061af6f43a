import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/database.js';
import type { BudgetReportInput } from '../ledger/budget-report.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope, setLimit, type BudgetChange } from '../ledger/limits.js';
import { spendSummary } from '../ledger/spend.js';
import { collectUsage, type UsageSummary } from '../ledger/usage-summary.js';

export type BudgetGroup = Pick<GroupConfig, 'name' | 'timezone' | 'budget'>;

export interface BudgetServiceDeps {
  db: Db;
  audit: AuditSink;
  clock: Clock;
  /** The configuration as it is now: the groups and enclave.yaml's global limits. */
  config: () => Pick<Config, 'groups' | 'enclave'>;
  /** The zone of the limits across all groups. */
  hostTimezone: string;
}

export interface BudgetSet {
  change: BudgetChange;
  /** The limit it replaced (micro-dollars or tokens); null: there was none. */
  previous: number | null;
}

/**
 * Budgets, written once for the chat's /budget, `enclave usage` and the dashboard. Who may change a
 * limit is decided by the front end before it calls (the chat's owner-only commands, the CLI's shell).
 */
export class BudgetService {
  constructor(private readonly deps: BudgetServiceDeps) {}

  /** Today's and this month's spend of one group against its and the global limits. */
  show(group: BudgetGroup): BudgetReportInput {
    const { db, clock, hostTimezone } = this.deps;
    const now = clock();
    return {
      group: group.name,
      spend: spendSummary(db, group.name, group.timezone, now, hostTimezone),
      limits: effectiveLimits(db, groupScope(group.name), group.budget),
      globalLimits: this.globalLimits(),
      now,
    };
  }

  /**
   * Records a new limit for the group (or for all groups) and audits it with the one it replaced.
   * A global change needs no group (the dashboard has none); one from a chat is audited under the chat's group.
   */
  set(group: BudgetGroup | undefined, change: BudgetChange, actor: string): BudgetSet {
    const { db } = this.deps;
    if (change.scope === 'group' && !group) throw new Error('a group budget change needs its group');
    const previous = (group && change.scope === 'group' ? effectiveLimits(db, groupScope(group.name), group.budget) : this.globalLimits())[change.period][change.unit];
    setLimit(db, group && change.scope === 'group' ? groupScope(group.name) : GLOBAL_SCOPE, change.period, change.unit, change.amount, actor, this.deps.clock());
    this.deps.audit.append({ kind: 'budget_change', group: group?.name, actor, detail: { ...change, previous } });
    return { change, previous };
  }

  /** Every group's spend, and all of them together, for `enclave usage`. */
  usage(): UsageSummary {
    const config = this.deps.config();
    return collectUsage(this.deps.db, {
      groups: [...config.groups.values()],
      globalLimits: config.enclave.budgets.global,
      hostTimezone: this.deps.hostTimezone,
      now: this.deps.clock(),
    });
  }

  private globalLimits() {
    return effectiveLimits(this.deps.db, GLOBAL_SCOPE, this.deps.config().enclave.budgets.global);
  }
}

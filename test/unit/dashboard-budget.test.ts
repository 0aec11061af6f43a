import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Config } from '../../src/config/load.js';
import { enclaveConfigSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { effectiveLimits, GLOBAL_SCOPE } from '../../src/ledger/limits.js';
import { BudgetService } from '../../src/services/budget-service.js';
import { testGroup } from '../helpers/group-config.js';

const NOW = Date.UTC(2026, 10, 24, 15, 18);
const MAIN = testGroup({ name: 'main', budget: { dailyUsd: 2.5 } });

test('the budget service sets the limit of all groups without a group (the dashboard has none), audited like the chat\'s', () => {
  const db = openDatabase(':memory:');
  const config = { groups: new Map([['main', MAIN]]), enclave: enclaveConfigSchema.parse({ budgets: { global: { dailyUsd: 10 } } }) } as Pick<Config, 'groups' | 'enclave'>;
  const audit = new AuditLog(db, () => NOW);
  const budget = new BudgetService({ db, audit, clock: () => NOW, config: () => config, hostTimezone: 'UTC' });
  const fromDashboard = budget.set(undefined, { scope: 'global', period: 'day', unit: 'usd', amount: 7_000_000 }, 'dashboard:abcd1234');
  assert.deepEqual(fromDashboard.previous, 10_000_000);
  assert.equal(effectiveLimits(db, GLOBAL_SCOPE, config.enclave.budgets.global).day.usd, 7_000_000);
  budget.set(MAIN, { scope: 'global', period: 'day', unit: 'usd', amount: 6_000_000 }, 'telegram:1');
  const [dash, chat] = audit.tail(2, { kind: 'budget_change' });
  assert.equal(dash!.group, undefined);
  assert.equal(chat!.group, 'main');
  assert.deepEqual(Object.keys(dash!.detail).sort(), Object.keys(chat!.detail).sort(), 'one audit shape');
  assert.deepEqual(dash!.detail, { scope: 'global', period: 'day', unit: 'usd', amount: 7_000_000, previous: 10_000_000 });
  assert.throws(() => budget.set(undefined, { scope: 'group', period: 'day', unit: 'usd', amount: 1 }, 'x'), /needs its group/);
});

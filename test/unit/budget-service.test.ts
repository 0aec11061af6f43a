import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Config } from '../../src/config/load.js';
import { enclaveConfigSchema } from '../../src/config/schema.js';
import { budgetChatCommand } from '../../src/core/commands/budget-chat-command.js';
import { Commands } from '../../src/core/commands/commands.js';
import { parseCommand } from '../../src/core/commands/parse.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import type { ReserveRequest } from '../../src/ledger/types.js';
import { BudgetService } from '../../src/services/budget-service.js';
import { testGroup } from '../helpers/group-config.js';

// 2026-11-24 15:18 UTC = 20:48 in Asia/Kolkata, 3 h 12 min before its midnight.
const NOW = Date.UTC(2026, 10, 24, 15, 18);
const MAIN = testGroup({ name: 'main', timezone: 'Asia/Kolkata', chats: ['telegram:-100'], budget: { dailyUsd: 2.5, monthlyUsd: 20 } });

/** The service, the ledger that enforces what it sets, and /budget behind the real command registry, on one database. */
function rig() {
  const db = openDatabase(':memory:');
  const config = {
    groups: new Map([['main', MAIN]]),
    enclave: enclaveConfigSchema.parse({ budgets: { global: { dailyUsd: 10 } } }),
  } as Pick<Config, 'groups' | 'enclave'>;
  const audit = new AuditLog(db, () => NOW);
  const ledger = new SqliteLedger({ db, groupLimits: () => MAIN.budget, globalLimits: () => config.enclave.budgets.global, hostTimezone: 'UTC', clock: () => NOW });
  const budget = new BudgetService({ db, audit, clock: () => NOW, config: () => config, hostTimezone: 'UTC' });
  const commands = new Commands([budgetChatCommand({ budget })], { audit, notices: new RefusalNotices(db, () => NOW) });
  const say = async (text: string, owner: boolean) => {
    const msg: InboundMessage = {
      channel: 'telegram', chatId: '-100', platformId: text, senderId: owner ? '1' : '2', senderName: 'A', text, isDirect: false,
      mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: NOW,
    };
    return commands.run(parseCommand(text)!, { msg, group: MAIN, owner, identity: `telegram:${msg.senderId}` });
  };
  return { db, audit, ledger, budget, say };
}

const call = (micros: number, tokens = 1): ReserveRequest => ({ group: 'main', timezone: 'Asia/Kolkata', model: 'm', provider: 'p', micros, tokens });

test('show: spend against the group and global limits, calls in flight, when each window resets', async () => {
  const r = rig();
  const id = r.ledger.reserve(call(420_000, 1234));
  assert.ok(id.ok);
  r.ledger.settle({ reservationId: id.reservationId, usage: { inputTokens: 1000, cachedInputTokens: 0, outputTokens: 234 }, micros: 420_000, outcome: 'ok' });
  assert.ok(r.ledger.reserve(call(50_000, 10)).ok);
  const view = r.budget.show(MAIN);
  assert.deepEqual([view.spend.day.micros, view.spend.day.openMicros, view.limits.day.usd, view.globalLimits.day.usd], [420_000, 50_000, 2_500_000, 10_000_000]);
  const report = (await r.say('/budget', false))!;
  assert.match(report, /Today \(2026-11-24\): \$0\.42 of \$2\.50 \(16%\), 1,234 tokens; resets at 00:00 Asia\/Kolkata \(in 3 h 12 min\)/);
  assert.match(report, /This month \(2026-11\): \$0\.42 of \$20\.00 \(2%\), 1,234 tokens; resets on 1 Dec at 00:00 Asia\/Kolkata/);
  assert.match(report, /Calls in flight: up to \$0\.05 reserved/);
  assert.match(report, /All groups \(UTC\): today \$0\.42 of \$10\.00 \(4%\)/);
  assert.match((await r.say('/budget bogus', false))!, /Usage: \/budget set/);
});

test('set: the owner changes a limit the ledger then enforces; everyone else is refused in the one owner check', async () => {
  const r = rig();
  assert.equal(await r.say('/budget set daily 0.40', false), 'Only the owner can use /budget set.');
  const denial = r.audit.tail(5, { kind: 'denial' }).at(-1);
  assert.deepEqual([denial?.actor, denial?.detail.reason, denial?.detail.command], ['telegram:2', 'owner_only_command', 'budget']);
  assert.equal(r.budget.show(MAIN).limits.day.usd, 2_500_000, 'the refused change did not happen');

  assert.equal(await r.say('/budget set daily 0.40', true), 'The daily budget of this group is now $0.40 (was $2.50).');
  assert.equal(await r.say('/budget set global monthly tokens 5000', true), 'The monthly token limit of all groups together is now 5,000 tokens (was no limit).');
  assert.match((await r.say('/budget set hourly 1', true))!, /daily or monthly/);
  const changes = r.audit.tail(10, { kind: 'budget_change' });
  assert.deepEqual(changes.map((row) => [row.group, row.actor, row.detail]), [
    ['main', 'telegram:1', { scope: 'group', period: 'day', unit: 'usd', amount: 400_000, previous: 2_500_000 }],
    ['main', 'telegram:1', { scope: 'global', period: 'month', unit: 'tokens', amount: 5000, previous: null }],
  ]);
  const refused = r.ledger.reserve(call(500_000));
  assert.ok(!refused.ok && refused.refusal.limit === 400_000, 'the ledger enforces the new limit');

  const removed = r.budget.set(MAIN, { scope: 'group', period: 'day', unit: 'usd', amount: null }, 'dashboard');
  assert.deepEqual(removed, { change: { scope: 'group', period: 'day', unit: 'usd', amount: null }, previous: 400_000 });
  assert.equal(r.budget.show(MAIN).limits.day.usd, null);
});

test('usage: every configured group in its own zone, groups only in the ledger, and the total', () => {
  const r = rig();
  const spend = (group: string, micros: number) => {
    const res = r.ledger.reserve({ ...call(micros), group });
    assert.ok(res.ok);
    r.ledger.settle({ reservationId: res.reservationId, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 0 }, micros, outcome: 'ok' });
  };
  spend('main', 300_000);
  spend('gone', 20_000);
  r.budget.set(MAIN, { scope: 'group', period: 'month', unit: 'usd', amount: 5_000_000 }, 'cli');
  const usage = r.budget.usage();
  assert.equal(usage.at, NOW);
  assert.deepEqual(usage.groups.map((g) => [g.name, g.timezone, g.configured, g.day.micros, g.month.limitMicros]), [
    ['main', 'Asia/Kolkata', true, 300_000, 5_000_000],
    ['gone', 'UTC', false, 20_000, null],
  ]);
  assert.deepEqual([usage.global.day.micros, usage.global.day.limitMicros], [320_000, 10_000_000]);
});

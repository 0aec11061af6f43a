import assert from 'node:assert/strict';
import { configHome } from '../helpers/config-home.js';
import { test, type TestContext } from 'node:test';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { GroupQueue } from '../../src/core/group-queue.js';
import { openDatabase } from '../../src/db/database.js';
import type { BudgetLedger } from '../../src/ledger/types.js';
import type { GroupSocketServer } from '../../src/socket/group-socket-server.js';
import { ChainBudget, chainAwareLedger } from '../../src/teams/chain-budget.js';
import { HelperRunner, type HelperOutcome } from '../../src/teams/helper-runner.js';
import { TeamError } from '../../src/teams/team-error.js';
import { TeamTaskStore } from '../../src/teams/team-store.js';
import { TeamTurns } from '../../src/teams/team-turns.js';
import { teamHost } from '../helpers/team-host.js';
import { waitFor } from '../helpers/wait.js';

interface Dispatched {
  name: string;
  request: TurnRequest;
  answer: (r: Partial<TurnResult>) => void;
  scope: <T>(run: () => T) => T;
}

/**
 * The real HelperRunner over real SQLite, a real GroupQueue and the real chain budget; the
 * container and its socket are stand-ins that record what the runner does with them.
 */
function helperHost(t: TestContext, opts: { maxContainers?: number; maxHelpers?: number } = {}) {
  const home = configHome(t, `teams:\n  home: { members: [main, worker], maxHelpers: ${opts.maxHelpers ?? 1}, askTimeoutSeconds: 30, maxChainUsd: 0.01 }\n`, {
    main: 'chats: [local:main]\nteam: { helpers: true }\n',
    worker: 'chats: []\n',
    loner: 'chats: [local:loner]\n',
  });
  const config = loadConfig(home, {});
  const db = openDatabase(':memory:');
  const clock = () => Date.parse('2026-05-01T10:00:00Z');
  const audit = new AuditLog(db, clock);
  const store = new TeamTaskStore(db, clock);
  const dispatched: Dispatched[] = [];
  const started: string[] = [];
  const removed: string[] = [];
  const closed: string[] = [];
  const timers: { ms: number; fire: () => void }[] = [];
  const helpers: HelperRunner = new HelperRunner({
    config: () => config, store, turns: new TeamTurns(), audit, model: () => 'm',
    startContainer: async (name) => {
      started.push(name);
      let exit!: (code: number) => void;
      const exited = new Promise<number>((r) => (exit = r));
      return { id: `c-${name}`, exited, remove: async () => void (removed.push(name), exit(137)) };
    },
    openSocket: async (name, _payer, scope) =>
      ({
        socketPath: `/nowhere/${name}/api.sock`,
        dispatch: (request: TurnRequest) => new Promise<TurnResult>((resolve) => dispatched.push({ name, request, scope, answer: (r) => resolve({ turnId: request.turnId, ok: true, reply: '', steps: 1, ...r }) })),
        abort: () => undefined,
      }) as unknown as GroupSocketServer,
    closeSocket: async (name) => void closed.push(name),
    acquireSlot: (signal) => queue.acquireHelperSlot(signal),
    lendSlotWhile: (group, waiting) => queue.lendSlotWhile(group, waiting),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        timers.push({ ms, fire: resolve });
        signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
      }),
  });
  /** Each group's turn runs what the test gives it, inside the queue (so its slot can be lent). */
  const turnWork = new Map<string, () => Promise<unknown>>();
  const ran: string[] = [];
  const queue = new GroupQueue(opts.maxContainers ?? 1, async (g) => {
    ran.push(g);
    await turnWork.get(g)?.();
  }, (g, err) => assert.fail(`turn of ${g} crashed: ${String(err)}`));
  const caller = (name: string, turnId = 'turn-1') => ({ group: config.groups.get(name)!, turnId, chat: { channel: 'local', chatId: name } });
  /** main spawns in a queued turn; resolves with each spawn's outcome (or refusal). */
  const spawnInTurn = (group: string, briefs: string[]) =>
    new Promise<(HelperOutcome | TeamError)[]>((resolve) => {
      turnWork.set(group, async () => resolve(await Promise.all(briefs.map((b) => helpers.spawn(caller(group), b).catch((e: TeamError) => e)))));
      queue.enqueue(group);
    });
  const rows = () => audit.tail(100, { kind: 'team' });
  return { helpers, queue, dispatched, started, removed, closed, timers, turnWork, ran, spawnInTurn, rows, db, caller };
}

test('with one container slot a helper runs on the slot its spawner lends; another group waits behind it; the answer comes back and everything is removed', async (t) => {
  const h = helperHost(t, { maxContainers: 1 });
  const done = h.spawnInTurn('main', ['count to four']);
  await waitFor('the helper\'s turn', () => h.dispatched.length === 1);
  assert.equal(h.queue.helperCount, 1);
  h.turnWork.set('worker', async () => undefined);
  h.queue.enqueue('worker');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.ran, ['main'], 'the helper holds the one slot: the worker waits');
  const { request, name } = h.dispatched[0]!;
  assert.deepEqual([request.messages, request.tools, request.skills, request.model], [[{ role: 'user', content: 'count to four' }], [], [], 'm']);
  assert.match(request.context, /helper agent that the agent "main" started/);
  h.dispatched[0]!.answer({ reply: 'one two three four' });
  const [out] = await done;
  assert.deepEqual(out, { ok: true, helper: name, chainId: (out as { chainId: string }).chainId, answer: 'one two three four' });
  await waitFor('the worker to run once the slot is free', () => h.ran.includes('worker'));
  assert.deepEqual([h.started, h.removed, h.closed], [[name], [name], [name]]);
  const row = h.rows().find((r) => r.detail.action === 'helper')!;
  assert.deepEqual([row.group, row.detail.helper, row.detail.outcome, row.detail.spentMicros], ['main', name, 'done', 0]);
  assert.equal(h.queue.helperCount, 0);
});

test('default deny: a member without team.helpers, and a group in no team, are refused before anything starts', async (t) => {
  const h = helperHost(t);
  await assert.rejects(h.helpers.spawn(h.caller('worker'), 'x'), /may not start helpers \(team\.helpers is not true/);
  await assert.rejects(h.helpers.spawn(h.caller('loner'), 'x'), /your group is in no team/);
  assert.deepEqual(h.started, []);
  assert.equal(h.rows().filter((r) => r.detail.action === 'helper_refused').length, 2);
});

test('maxHelpers: a helper over the team\'s cap is refused with the reason while the others run', async (t) => {
  const h = helperHost(t, { maxContainers: 4, maxHelpers: 2 });
  const done = h.spawnInTurn('main', ['a', 'b', 'c']);
  await waitFor('two helpers', () => h.dispatched.length === 2);
  for (const d of h.dispatched) d.answer({ reply: 'ok' });
  const outcomes = await done;
  const refused = outcomes.filter((o): o is TeamError => o instanceof TeamError);
  assert.equal(refused.length, 1);
  assert.match(refused[0]!.message, /already runs 2 helpers, the most it allows at once \(maxHelpers: 2\)/);
  assert.equal(h.started.length, 2);
});

test('timeout (askTimeoutSeconds): a running helper is stopped and removed; one still waiting for a slot never starts', async (t) => {
  const h = helperHost(t, { maxContainers: 1, maxHelpers: 2 });
  const done = h.spawnInTurn('main', ['slow', 'queued']);
  await waitFor('one helper running, one waiting', () => h.dispatched.length === 1 && h.timers.length === 2);
  assert.deepEqual(h.timers.map((x) => x.ms), [30_000, 30_000]);
  for (const x of h.timers) x.fire();
  const outcomes = (await done) as HelperOutcome[];
  for (const o of outcomes) assert.deepEqual([o.ok, !o.ok && o.reason], [false, 'the helper did not finish within 30 seconds (askTimeoutSeconds)']);
  assert.equal(h.started.length, 1, 'the helper waiting for a slot never started a container');
  assert.deepEqual(h.removed, h.started);
  assert.deepEqual(h.closed.length, 1);
  assert.equal(h.queue.helperCount, 0);
});

test('the spawner\'s turn ending stops its helpers; a host stop stops them all', async (t) => {
  const h = helperHost(t, { maxContainers: 2 });
  const first = h.spawnInTurn('main', ['a']);
  await waitFor('the helper', () => h.dispatched.length === 1);
  h.helpers.turnEnded('worker');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.removed, [], 'another group\'s turn ending touches nothing');
  h.helpers.turnEnded('main');
  const [out] = (await first) as HelperOutcome[];
  assert.equal(!out!.ok && out!.reason, 'the turn that started the helper ended');
  assert.deepEqual(h.removed, h.started);
  await h.queue.idle();

  const second = h.spawnInTurn('main', ['b']);
  await waitFor('the next helper', () => h.dispatched.length === 2);
  h.helpers.stopAll();
  const [stopped] = (await second) as HelperOutcome[];
  assert.equal(!stopped!.ok && stopped!.reason, 'Enclave is shutting down');
  assert.equal(h.helpers.count, 0);
});

test('a helper\'s model calls are reserved on its chain as well as the spawner\'s budget: calls over maxChainUsd are refused however many run at once; its spend is audited', async (t) => {
  const h = helperHost(t, { maxContainers: 4, maxHelpers: 3 });
  const inner: string[] = [];
  const groupLedger: BudgetLedger = {
    reserve: (req) => (inner.push(req.group), { ok: true, reservationId: `r${inner.length}` }),
    settle: () => undefined,
    largestOverrunOutput: () => undefined,
  };
  const ledger = chainAwareLedger(h.helpers.spendLedger(groupLedger), new ChainBudget(h.db), () => h.helpers.currentChain());
  const call = { group: 'main', timezone: 'UTC', model: 'm', provider: 'p', micros: 4_000, tokens: 100 };
  const done = h.spawnInTurn('main', ['a', 'b', 'c']);
  await waitFor('three helpers', () => h.dispatched.length === 3);
  assert.equal(ledger.reserve(call).ok, true, 'a call outside any helper pays no chain');
  const results = h.dispatched.map((d) => d.scope(() => ledger.reserve(call)));
  assert.deepEqual(results.map((r) => r.ok), [true, true, false], '2 × 0.004 fit into 0.01; a third would not');
  const refusal = results[2]!;
  assert.match(!refusal.ok ? refusal.refusal.message : '', /maxChainUsd/);
  assert.deepEqual(inner, ['main', 'main', 'main'], 'the refused call never reached the group ledger (nor upstream)');
  for (const r of results) if (r.ok) ledger.settle({ reservationId: r.reservationId, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5 }, micros: 30, outcome: 'ok' });
  for (const d of h.dispatched) d.answer({ reply: 'ok' });
  const outcomes = (await done) as HelperOutcome[];
  const chain = h.db.prepare('SELECT spent_micros AS spent, reserved_micros AS reserved, limit_micros AS lim FROM team_chains WHERE id = ?').get(outcomes[0]!.chainId);
  assert.deepEqual(chain, { spent: 60, reserved: 0, lim: 10_000 });
  assert.equal(new Set(outcomes.map((o) => o.chainId)).size, 1, 'the helpers of one turn share one chain');
  const spent = h.rows().filter((r) => r.detail.action === 'helper').map((r) => r.detail.spentMicros).sort();
  assert.deepEqual(spent, [0, 30, 30]);
});

test('the dispatcher refuses spawn_helper from a group without team.helpers, whatever the agent sends; with the right, bad arguments are refused before anything starts', async (t) => {
  const h = teamHost(t, {
    enclaveYaml: 'teams:\n  home: { members: [main, worker] }\n',
    groups: { main: 'chats: [local:main]\nteam: { helpers: true }\n', worker: 'chats: [local:worker]\n' },
  });
  h.active.begin('t-worker', { group: 'worker', channel: 'local', chatId: 'worker', replyTo: '', sent: 0 });
  const denied = await h.dispatcher.handle('worker', 't-worker', 'spawn_helper', { brief: 'work for me' });
  assert.deepEqual(denied, { ok: false, error: 'spawn_helper is not enabled for this group (tools in group.yaml)' });
  h.active.begin('t-main', { group: 'main', channel: 'local', chatId: 'main', replyTo: '', sent: 0 });
  const empty = await h.dispatcher.handle('main', 't-main', 'spawn_helper', { brief: '  ' });
  assert.match(String(empty.error), /invalid arguments: brief: brief is empty/);
  const extra = await h.dispatcher.handle('main', 't-main', 'spawn_helper', { brief: 'x', group: 'worker' });
  assert.match(String(extra.error), /invalid arguments/, 'no argument may name a group');
  assert.equal(h.teams.helpers.count, 0);
});

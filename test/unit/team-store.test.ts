import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { teamSchema } from '../../src/config/team-schema.js';
import { BoardStore, MAX_BOARD_KEYS } from '../../src/teams/board-store.js';
import { mayRead, mayWrite } from '../../src/teams/board-acl.js';
import { ChainBudget, chainAwareLedger } from '../../src/teams/chain-budget.js';
import { planHop } from '../../src/teams/chain-rules.js';
import { TeamTaskStore, type NewTeamTask } from '../../src/teams/team-store.js';
import type { BudgetLedger, ReserveRequest } from '../../src/ledger/types.js';
import { ManualTime } from '../helpers/manual-time.js';
import { testGroup } from '../helpers/group-config.js';

const acl = (handOffTo: string[], read: string[] = [], write: string[] = []) => ({ handOffTo, board: { read, write }, publish: [], subscribe: [] });

function setup() {
  const db = openDatabase(':memory:');
  const time = new ManualTime();
  return { db, time, tasks: new TeamTaskStore(db, time.clock), board: new BoardStore(db, time.clock), budget: new ChainBudget(db) };
}

function task(chainId: string, over: Partial<NewTeamTask> = {}): NewTeamTask {
  return { chainId, team: 'home', kind: 'hand_off', from: 'main', to: 'researcher', parentTask: null, fromTurn: 't1', depth: 1, visited: ['main', 'researcher'], title: 'T', brief: 'B', ...over };
}

test('a task is claimed once, finishes exactly once, is reported once, and a stopped host requeues what was running', () => {
  const { tasks } = setup();
  const chain = tasks.createChain({ team: 'home', originGroup: 'main', origin: { channel: 'local', chatId: 'main' }, limitMicros: 500_000 });
  const a = tasks.create(task(chain.id));
  assert.equal(tasks.claimNext('researcher')?.id, a.id);
  assert.equal(tasks.claimNext('researcher'), undefined, 'a running task is not claimed again');
  assert.deepEqual(tasks.requeueInterrupted(), ['researcher']);
  assert.equal(tasks.claimNext('researcher')?.id, a.id);
  assert.equal(tasks.finish(a.id, 'done', 'the answer'), true);
  assert.equal(tasks.finish(a.id, 'failed', 'late failure'), false, 'a finished task never finishes again');
  assert.deepEqual([tasks.get(a.id)?.state, tasks.get(a.id)?.result, tasks.get(a.id)?.error], ['done', 'the answer', null]);
  assert.deepEqual(tasks.unreported('main').map((t) => t.id), [a.id]);
  assert.equal(tasks.markReported(a.id), true);
  assert.equal(tasks.markReported(a.id), false);
  assert.deepEqual(tasks.unreported('main'), []);
  assert.deepEqual(tasks.requeueInterrupted(), []);
});

test('hop rules: default deny, depth, loops, fan-out and a closed chain are refused; nothing the agent says is consulted', () => {
  const { tasks } = setup();
  const team = teamSchema.parse({ members: ['main', 'researcher', 'planner'], maxDepth: 2, maxFanOut: 2 });
  const main = testGroup({ name: 'main', team: { name: 'home', acl: acl(['researcher']) } });
  const researcher = testGroup({ name: 'researcher', chats: [], team: { name: 'home', acl: acl(['main', 'planner']) } });
  const planner = testGroup({ name: 'planner', chats: [], team: { name: 'home', acl: acl(['main']) } });
  assert.deepEqual(planHop({ team, from: main, to: 'researcher', openFromTurn: 0 }), { ok: true, depth: 1, visited: ['main', 'researcher'] });
  const denied = planHop({ team, from: main, to: 'planner', openFromTurn: 0 });
  assert.ok(!denied.ok && /may not hand work to "planner"/.test(denied.reason));
  const fanOut = planHop({ team, from: main, to: 'researcher', openFromTurn: 2 });
  assert.ok(!fanOut.ok && /maxFanOut/.test(fanOut.reason));

  const chain = tasks.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  const first = tasks.create(task(chain.id));
  const loop = planHop({ team, from: researcher, to: 'main', current: { chain, depth: first.depth, visited: first.visited }, openFromTurn: 0 });
  assert.ok(!loop.ok && /main → researcher → main would be a loop/.test(loop.reason));
  assert.deepEqual(planHop({ team, from: researcher, to: 'planner', current: { chain, depth: first.depth, visited: first.visited }, openFromTurn: 0 }), { ok: true, depth: 2, visited: ['main', 'researcher', 'planner'] });
  const second = tasks.create(task(chain.id, { from: 'researcher', to: 'planner', depth: 2, visited: ['main', 'researcher', 'planner'] }));
  const deep = planHop({ team: { ...team, members: [...team.members, 'x'] }, from: { ...planner, team: { name: 'home', acl: acl(['x']) } }, to: 'x', current: { chain, depth: second.depth, visited: second.visited }, openFromTurn: 0 });
  assert.ok(!deep.ok && /3 hand-offs deep; the team allows 2/.test(deep.reason));
  tasks.setChainState(chain.id, 'cancelled');
  const closed = planHop({ team, from: researcher, to: 'planner', current: { chain: tasks.chain(chain.id)!, depth: first.depth, visited: first.visited }, openFromTurn: 0 });
  assert.ok(!closed.ok && /cancelled/.test(closed.reason));
});

test('board: compare-and-swap, prefixes, TTL by the injected clock, key cap; ACL patterns cover only what they name', () => {
  const { board, time } = setup();
  const w1 = board.write('home', 'trip/plan', 'v1', 'main', 0);
  assert.ok(w1.ok && w1.entry.version === 1);
  const stale = board.write('home', 'trip/plan', 'v2', 'researcher', 0);
  assert.ok(!stale.ok && stale.problem === 'conflict' && stale.current?.value === 'v1' && stale.current.version === 1, 'a stale version is refused with the current entry');
  assert.ok(board.write('home', 'trip/plan', 'v2', 'researcher', 1).ok);
  assert.ok(board.write('home', 'trip/research/hotels', 'h', 'researcher', undefined, 60).ok);
  assert.deepEqual(board.read('home', 'trip/').map((e) => [e.key, e.value, e.version]), [['trip/plan', 'v2', 2], ['trip/research/hotels', 'h', 1]]);
  assert.deepEqual(board.read('other', 'trip/'), [], 'each team has its own board');
  time.advance(60_000);
  assert.deepEqual(board.read('home', 'trip/research/hotels'), [], 'expired');
  assert.equal(board.delete('home', 'trip/plan'), true);
  for (let i = 0; i < MAX_BOARD_KEYS; i++) assert.ok(board.write('home', `k/${i}`, 'x', 'main').ok);
  const full = board.write('home', 'k/one-more', 'x', 'main');
  assert.ok(!full.ok && full.problem === 'full');

  const rights = acl([], ['trip/*'], ['trip/research/*']);
  assert.equal(mayRead(rights, 'trip/plan'), true);
  assert.equal(mayRead(rights, 'trip/'), true);
  assert.equal(mayRead(rights, 'tri'), false);
  assert.equal(mayRead(rights, 'secrets/x'), false);
  assert.equal(mayRead(acl([], ['trip/plan']), 'trip/'), false, 'a prefix read needs a prefix right');
  assert.equal(mayWrite(rights, 'trip/research/a'), true);
  assert.equal(mayWrite(rights, 'trip/plan'), false);
  assert.equal(mayWrite(rights, 'trip/researchx'), false);
});

test('chain budget: many parallel reservations never pass maxChainUsd, the group ledger is asked too, settlement charges the real cost', () => {
  const { tasks, budget } = setup();
  const chain = tasks.createChain({ team: 'home', originGroup: 'main', limitMicros: 1_000 });
  let innerReserved = 0;
  const inner: BudgetLedger = {
    reserve: () => ({ ok: true, reservationId: `r${++innerReserved}` }),
    settle: () => undefined,
    largestOverrunOutput: () => undefined,
  };
  const ledger = chainAwareLedger(inner, budget, (g) => (g === 'researcher' ? chain.id : undefined));
  const req = (micros: number): ReserveRequest => ({ group: 'researcher', timezone: 'UTC', model: 'm', provider: 'p', micros, tokens: 1 });
  const results = Array.from({ length: 20 }, () => ledger.reserve(req(300)));
  assert.equal(results.filter((r) => r.ok).length, 3, '3 × 300 fit in 1000; the fourth would not');
  const refused = results.find((r) => !r.ok);
  assert.ok(refused && !refused.ok && refused.refusal.scope === 'chain' && /maxChainUsd/.test(refused.refusal.message));
  assert.equal(innerReserved, 3, 'the group ledger is asked only for calls the chain allows');
  for (const r of results) if (r.ok) ledger.settle({ reservationId: r.reservationId, usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1 }, micros: 100, outcome: 'ok' });
  assert.deepEqual(budget.spent(chain.id), { spentMicros: 300, limitMicros: 1_000 });
  assert.ok(ledger.reserve(req(700)).ok);
  assert.ok(!ledger.reserve(req(1)).ok);
  assert.ok(ledger.reserve({ ...req(10_000), group: 'main' }).ok, 'a turn outside the chain pays only its own budget');
  assert.equal(budget.chargeOpenReservations(), 1);
  assert.deepEqual(budget.spent(chain.id), { spentMicros: 1_000, limitMicros: 1_000 }, 'an open reservation at restart is charged in full');
});

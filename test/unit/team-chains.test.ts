import assert from 'node:assert/strict';
import { test } from 'node:test';
import { teamHost } from '../helpers/team-host.js';

const trio = {
  enclaveYaml: 'teams:\n  home: { members: [main, researcher, planner], maxDepth: 8 }\n',
  groups: {
    main: 'chats: [local:main]\nteam: { handOffTo: [researcher] }\n',
    researcher: 'chats: []\nteam: { handOffTo: [planner, main] }\n',
    planner: 'chats: []\n',
  },
};

test('a results turn stands where its tasks were sent: A→B, B→C, then B hands back to A in the results turn is a loop', async (t) => {
  const h = teamHost(t, trio);
  const refusals: string[] = [];
  h.agent('researcher', async ({ tool }) => {
    const sent = await tool('hand_off', { to: 'planner', title: 'plan', brief: 'plan it' });
    assert.equal(sent.ok, true, sent.error);
    return { reply: 'asked the planner' };
  });
  h.agent('planner', async () => ({ reply: 'the plan' }));
  h.agent('researcher', async ({ input, tool }) => {
    assert.match(input, /the plan/);
    const back = await tool('hand_off', { to: 'main', title: 'again', brief: 'do it again' });
    refusals.push(back.error ?? 'allowed');
    return { reply: 'done' };
  });
  h.agent('main', async () => ({ reply: 'results read' }));
  h.chat('main', async ({ tool }) => {
    assert.equal((await tool('hand_off', { to: 'researcher', title: 'find', brief: 'find hotels' })).ok, true);
    return { reply: 'on it' };
  });
  await h.queue.idle();
  assert.equal(refusals.length, 1);
  assert.match(refusals[0]!, /main → researcher → main would be a loop/);
  assert.deepEqual(h.teams.store.list({ all: true }).map((task) => [task.from, task.to, task.depth]).reverse(), [['main', 'researcher', 1], ['researcher', 'planner', 2]]);
});

test('a cancelled chain stops: its running turns are aborted, it reserves nothing more, and no task joins it', async (t) => {
  const h = teamHost(t, trio);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const late: string[] = [];
  let tried!: () => void;
  const lateCall = new Promise<void>((resolve) => (tried = resolve));
  h.agent('researcher', async ({ tool }) => {
    started();
    await held;
    late.push((await tool('hand_off', { to: 'planner', title: 'p', brief: 'b' })).error ?? 'allowed');
    tried();
    return { reply: 'finished anyway' };
  });
  h.agent('main', async () => ({ reply: 'read' }));
  h.chat('main', async ({ tool }) => {
    await tool('hand_off', { to: 'researcher', title: 'find', brief: 'find hotels' });
    return { reply: 'on it' };
  });
  await running;
  const task = h.teams.store.list()[0]!;
  assert.equal(h.teams.chainBudget.reserve(task.chainId, 1), true, 'an open chain reserves');
  h.teams.chainBudget.settle(task.chainId, 1, 0);
  assert.deepEqual(h.teams.service.cancel(task.id, 'owner').map((c) => c.id), [task.id]);
  assert.deepEqual(h.aborted, ['researcher'], 'the chain\'s running turn is stopped');
  assert.equal(h.teams.chainBudget.reserve(task.chainId, 1), false, 'a cancelled chain reserves nothing');
  await h.queue.idle();
  release();
  await lateCall;
  assert.deepEqual(late, ['no turn of this group is in progress'], 'the aborted turn is over: its agent can call nothing more');
  assert.deepEqual([h.teams.store.get(task.id)?.state, h.teams.store.chain(task.chainId)?.state], ['cancelled', 'cancelled']);
});

test('every task one chat turn hands out belongs to one chain with one maxChainUsd budget', async (t) => {
  const h = teamHost(t, { ...trio, groups: { ...trio.groups, main: 'chats: [local:main]\nteam: { handOffTo: [researcher, planner] }\n' } });
  h.agent('researcher', async () => ({ reply: 'r' }));
  h.agent('planner', async () => ({ reply: 'p' }));
  h.agent('main', async () => ({ reply: 'read' }), async () => ({ reply: 'read' }));
  h.chat('main', async ({ tool }) => {
    for (const to of ['researcher', 'planner', 'researcher']) assert.equal((await tool('hand_off', { to, title: 't', brief: 'b' })).ok, true);
    return { reply: 'on it' };
  });
  await h.queue.idle();
  const tasks = h.teams.store.list({ all: true });
  assert.equal(tasks.length, 3);
  assert.equal(new Set(tasks.map((task) => task.chainId)).size, 1, 'one chain for the turn');
  assert.deepEqual(tasks.map((task) => [task.depth, task.parentTask]), [[1, null], [1, null], [1, null]]);
});

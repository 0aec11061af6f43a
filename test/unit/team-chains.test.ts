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

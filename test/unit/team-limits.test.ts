import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewTeamTask } from '../../src/teams/team-store.js';
import { MAX_OPEN_TASKS_PER_CHAIN, MAX_OPEN_TASKS_PER_TEAM } from '../../src/teams/task-limits.js';
import { teamHost } from '../helpers/team-host.js';
import { waitFor } from '../helpers/wait.js';

const trio = {
  enclaveYaml: 'teams:\n  home: { members: [main, researcher, planner], maxDepth: 8 }\n',
  groups: {
    main: 'chats: [local:main]\nteam: { handOffTo: [researcher, planner] }\n',
    researcher: 'chats: []\nteam: { handOffTo: [planner] }\n',
    planner: 'chats: []\n',
  },
};

function openTask(chainId: string, over: Partial<NewTeamTask> = {}): NewTeamTask {
  return { chainId, team: 'home', kind: 'hand_off', from: 'main', to: 'planner', parentTask: null, fromTurn: 'earlier-turn', depth: 1, visited: ['main', 'planner'], title: 'T', brief: 'B', ...over };
}

test(`a team with ${MAX_OPEN_TASKS_PER_TEAM} open tasks refuses one more with the reason, audited; once one finishes it takes new work again`, async (t) => {
  const h = teamHost(t, trio);
  const chain = h.teams.store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1_000_000 });
  // Open tasks of earlier turns (queued, nobody woken to run them): several chains' worth.
  const filled = Array.from({ length: MAX_OPEN_TASKS_PER_TEAM }, (_, i) => h.teams.store.create(openTask(i < MAX_OPEN_TASKS_PER_CHAIN - 1 ? chain.id : h.teams.store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 }).id)));
  const results: { ok: boolean; error?: string }[] = [];
  h.chat('main', async ({ tool }) => {
    results.push(await tool('hand_off', { to: 'researcher', title: 'one more', brief: 'b' }));
    results.push(await tool('ask_agent', { to: 'researcher', question: 'and this?' }));
    return { reply: 'refused' };
  });
  await h.queue.idle();
  assert.equal(results.length, 2);
  for (const r of results) {
    assert.equal(r.ok, false);
    assert.match(r.error!, new RegExp(`your team already has ${MAX_OPEN_TASKS_PER_TEAM} open tasks, the most it may have at once \\(${MAX_OPEN_TASKS_PER_TEAM}\\); wait for some to finish`));
  }
  assert.equal(h.teams.store.list({ all: true, limit: 1000 }).length, MAX_OPEN_TASKS_PER_TEAM, 'no task was made');
  const refusals = h.audit.tail(10, { kind: 'team' }).filter((r) => r.detail.action === 'hand_off_refused' || r.detail.action === 'ask_refused');
  assert.equal(refusals.length, 2);
  assert.match(String(refusals[0]!.detail.reason), /open tasks/);

  // Room again once one task is over.
  assert.equal(h.teams.store.finish(filled[0]!.id, 'done', 'old work'), true);
  h.teams.store.markReported(filled[0]!.id);
  h.agent('researcher', async () => ({ reply: 'did it' }));
  h.agent('main', async () => ({ reply: 'read' }));
  h.chat('main', async ({ tool }) => {
    results.push(await tool('hand_off', { to: 'researcher', title: 'now', brief: 'b' }));
    return { reply: 'sent' };
  });
  await h.queue.idle();
  assert.equal(results[2]!.ok, true, results[2]!.error);
});

test(`a chain with ${MAX_OPEN_TASKS_PER_CHAIN} open tasks refuses one more from any turn working in it`, async (t) => {
  const h = teamHost(t, trio);
  const chain = h.teams.store.createChain({ team: 'home', originGroup: 'main', origin: { channel: 'local', chatId: 'main' }, limitMicros: 1_000_000 });
  // The researcher's task first (it is claimed first), then the rest of the chain's open work.
  const mine = h.teams.store.create(openTask(chain.id, { to: 'researcher', visited: ['main', 'researcher'] }));
  for (let i = 1; i < MAX_OPEN_TASKS_PER_CHAIN; i++) h.teams.store.create(openTask(chain.id));
  const refused: string[] = [];
  h.agent('researcher', async ({ tool }) => {
    const r = await tool('hand_off', { to: 'planner', title: 'deeper', brief: 'b' });
    refused.push(r.error ?? 'allowed');
    return { reply: 'could not delegate' };
  });
  h.agent('main', async () => ({ reply: 'read' }));
  h.queue.enqueue('researcher');
  await waitFor('the researcher\'s turn', () => refused.length === 1 || undefined);
  await h.queue.idle();
  assert.match(refused[0]!, new RegExp(`this chain of work already has ${MAX_OPEN_TASKS_PER_CHAIN} open tasks, the most one chain may have at once`));
  assert.equal(h.teams.store.openCounts('home', chain.id).chain, MAX_OPEN_TASKS_PER_CHAIN - 1, 'the researcher\'s own task finished; nothing was added');
  assert.equal(h.teams.store.get(mine.id)?.result, 'could not delegate');
});

test('a reload that takes the recipient out of the team fails its queued hand-off back to the sender with the reason, and the chat is told', async (t) => {
  // One container slot: main's chat turn holds it, so the hand-off waits in the queue while the config changes.
  const h = teamHost(t, { ...trio, maxContainers: 1 });
  h.agent('main', async () => ({ reply: 'the researcher is gone' }));
  h.chat('main', async ({ tool }) => {
    assert.equal((await tool('hand_off', { to: 'researcher', title: 'Hotels', brief: 'find hotels' })).ok, true);
    h.reconfigure({
      'enclave.yaml': 'teams:\n  home: { members: [main, planner], maxDepth: 8 }\n',
      'groups/main/group.yaml': 'chats: [local:main]\nteam: { handOffTo: [planner] }\n',
      'groups/researcher/group.yaml': 'chats: []\n',
    });
    h.teams.afterReload();
    return { reply: 'on it' };
  });
  await h.queue.idle();
  const task = h.teams.store.list({ all: true })[0]!;
  assert.deepEqual([task.state, task.error, task.reported], ['failed', '"researcher" is no longer a member of the team "home"', true]);
  assert.ok(!h.inputs.some((i) => i.group === 'researcher'), 'the researcher never ran it');
  const results = h.inputs.find((i) => i.group === 'main' && i.input.startsWith('[Results'));
  assert.match(results?.input ?? '', /"state": "FAILED",\n\s+"reason": "\\"researcher\\" is no longer a member of the team \\"home\\""/);
  assert.equal(h.told.length, 1);
  assert.match(h.told[0]!.text, /The work handed to "researcher" \(task #\d+, "Hotels"\) failed: "researcher" is no longer a member of the team "home"/);
  assert.ok(h.outboxed.some((m) => m.text === 'the researcher is gone'), 'the sender answered its chat after reading the failure');
});

test('a reload that takes the recipient out fails a queued ask at once: the waiting asker gets the reason in its turn', async (t) => {
  const h = teamHost(t, trio);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let busy!: () => void;
  const researcherBusy = new Promise<void>((resolve) => (busy = resolve));
  h.agent('researcher', async () => {
    busy();
    await held;
    return { reply: 'first task done' };
  });
  h.agent('main', async () => ({ reply: 'read' }));
  h.chat('main', async ({ tool }) => {
    await tool('hand_off', { to: 'researcher', title: 'first', brief: 'keeps it busy' });
    return { reply: 'sent' };
  });
  await researcherBusy;
  let asked: { ok: boolean; error?: string } | undefined;
  h.chat('main', async ({ tool }) => {
    asked = await tool('ask_agent', { to: 'researcher', question: 'are you free?' });
    return { reply: 'asked' };
  });
  await waitFor('the ask to wait behind the running task', () => h.teams.store.queued().length === 1 || undefined);
  h.reconfigure({
    'enclave.yaml': 'teams:\n  home: { members: [main, planner], maxDepth: 8 }\n',
    'groups/main/group.yaml': 'chats: [local:main]\nteam: { handOffTo: [planner] }\n',
    'groups/researcher/group.yaml': 'chats: []\n',
  });
  h.teams.afterReload();
  await waitFor('the asker to hear', () => asked);
  assert.equal(asked!.ok, false);
  assert.match(asked!.error!, /^"researcher" could not answer: "researcher" is no longer a member of the team "home"/);
  release();
  await h.queue.idle();
  const states = h.teams.store.list({ all: true }).map((task) => [task.kind, task.state]).reverse();
  assert.deepEqual(states, [['hand_off', 'done'], ['ask', 'failed']], 'the running task finished; only the queued one failed');
});

test('a start after the team was removed from enclave.yaml fails its queued and interrupted tasks back to the senders', async (t) => {
  const h = teamHost(t, trio);
  const chain = h.teams.store.createChain({ team: 'home', originGroup: 'main', origin: { channel: 'local', chatId: 'main' }, limitMicros: 1_000_000 });
  const queued = h.teams.store.create(openTask(chain.id, { to: 'researcher', visited: ['main', 'researcher'] }));
  const running = h.teams.store.create(openTask(chain.id));
  h.teams.store.claimNext('planner');
  h.reconfigure({
    'enclave.yaml': '',
    'groups/main/group.yaml': 'chats: [local:main]\n',
    'groups/researcher/group.yaml': 'chats: []\n',
  });
  h.agent('main', async () => ({ reply: 'both failed' }));
  for (const group of h.teams.resume()) h.queue.enqueue(group);
  await h.queue.idle();
  for (const id of [queued.id, running.id]) {
    const task = h.teams.store.get(id)!;
    assert.deepEqual([task.state, task.error, task.reported], ['failed', 'the team "home" no longer exists (it was removed from enclave.yaml)', true]);
  }
  const results = h.inputs.filter((i) => i.group === 'main' && i.input.startsWith('[Results'));
  assert.equal(results.length, 1, 'the sender read both failures in one turn');
  assert.equal(h.inputs.filter((i) => i.group !== 'main').length, 0, 'no removed member ran anything');
});

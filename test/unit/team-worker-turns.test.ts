import assert from 'node:assert/strict';
import { test } from 'node:test';
import { teamHost } from '../helpers/team-host.js';

const trio = {
  enclaveYaml: 'teams:\n  home: { members: [main, researcher, planner], maxDepth: 8 }\n',
  groups: {
    main: 'chats: [local:main]\nteam: { handOffTo: [researcher] }\n',
    // send_message is listed, but a worker has no chat: the host takes it away.
    researcher: 'chats: []\ntools: [send_message]\nteam: { handOffTo: [planner] }\n',
    planner: 'chats: []\n',
  },
};

test('in a worker\'s task turn hand_off, complete_task and fail_task work and send_message is refused; the worker\'s own results turn has no chat and sends nothing', async (t) => {
  const h = teamHost(t, trio);
  const calls: Record<string, { ok: boolean; error?: string }> = {};
  let offered: string[] = [];
  h.agent('researcher', async ({ request, input, tool }) => {
    offered = request.tools;
    const id = Number(/#(\d+)/.exec(input)![1]);
    calls.send = await tool('send_message', { text: 'hello, chat?' });
    calls.handOff = await tool('hand_off', { to: 'planner', title: 'plan', brief: 'plan the days' });
    calls.complete = await tool('complete_task', { id, result: 'hotels: A, B' });
    calls.failAfter = await tool('fail_task', { id, reason: 'changed my mind' });
    return { reply: 'this reply is not the result: complete_task gave it' };
  });
  h.agent('planner', async () => ({ reply: 'day 1: museum' }));
  // The planner's result comes back to the researcher, a worker: its answer has no chat to go to.
  const workerResults: { input: string; roles: string[]; context: string }[] = [];
  h.agent('researcher', async ({ request, input }) => {
    workerResults.push({ input, roles: request.messages.map((m) => m.role), context: String(request.context) });
    return { reply: 'noted the plan' };
  });
  h.agent('main', async () => ({ reply: 'The researcher found hotels A and B.' }));
  h.chat('main', async ({ tool }) => {
    assert.equal((await tool('hand_off', { to: 'researcher', title: 'Hotels', brief: 'find hotels' })).ok, true);
    return { reply: 'asked the researcher' };
  });
  await h.queue.idle();
  assert.ok(offered.includes('complete_task') && !offered.includes('send_message'), `offered: ${offered.join(', ')}`);
  assert.deepEqual(calls.send, { ok: false, error: 'send_message is not enabled for this group (tools in group.yaml)' });
  assert.equal(calls.handOff!.ok, true, calls.handOff!.error);
  assert.equal(calls.complete!.ok, true, calls.complete!.error);
  assert.match(calls.failAfter!.error!, /already finished/);
  const tasks = h.teams.store.list({ all: true }).reverse();
  assert.deepEqual(tasks.map((x) => [x.from, x.to, x.state, x.result, x.reported]), [
    ['main', 'researcher', 'done', 'hotels: A, B', true],
    ['researcher', 'planner', 'done', 'day 1: museum', true],
  ]);
  assert.deepEqual(h.outboxed.map((m) => [m.group, m.text]), [['main', 'asked the researcher'], ['main', 'The researcher found hotels A and B.']], 'only main\'s chat hears anything');
  assert.deepEqual(h.told, []);
  assert.equal(workerResults.length, 1);
  assert.match(workerResults[0]!.input, /^\[Results of work you handed to other agents/);
  assert.deepEqual(workerResults[0]!.roles, ['user'], 'a worker has no chat history to replay');
  assert.match(workerResults[0]!.context, /You have no chat here/);
});

test('a worker\'s results turn that fails is logged, not crashed; its results still count as reported', async (t) => {
  const h = teamHost(t, trio);
  h.agent('researcher', async ({ tool }) => {
    assert.equal((await tool('hand_off', { to: 'planner', title: 'plan', brief: 'b' })).ok, true);
    return { reply: 'sent on' };
  });
  h.agent('planner', async () => ({ reply: 'plan' }));
  h.agent('researcher', async () => ({ ok: false, error: 'the model was unreachable' }));
  h.agent('main', async () => ({ reply: 'read' }));
  h.chat('main', async ({ tool }) => {
    await tool('hand_off', { to: 'researcher', title: 'Hotels', brief: 'b' });
    return { reply: 'on it' };
  });
  await h.queue.idle();
  assert.ok(h.teams.store.list({ all: true }).every((x) => x.state === 'done' && x.reported));
  assert.ok(!h.outboxed.some((m) => m.group === 'researcher'));
});

test('a chain started by a turn without a chat (a scheduled one): a failure and the results turn have no chat to go to and nothing crashes', async (t) => {
  const h = teamHost(t, trio);
  h.agent('researcher', async () => ({ ok: false, error: 'the researcher broke' }));
  const contexts: string[] = [];
  h.agent('main', async ({ request }) => {
    contexts.push(String(request.context));
    return { reply: 'noted the failure' };
  });
  h.active.begin('scheduled-1', { group: 'main', channel: '', chatId: '', replyTo: '', sent: 0 });
  const sent = await h.dispatcher.handle('main', 'scheduled-1', 'hand_off', { to: 'researcher', title: 'Nightly', brief: 'b' });
  h.active.end('scheduled-1');
  assert.equal(sent.ok, true, sent.error);
  await h.queue.idle();
  const task = h.teams.store.list({ all: true })[0]!;
  assert.equal(h.teams.store.chain(task.chainId)?.origin, undefined);
  assert.deepEqual([task.state, task.error, task.reported], ['failed', 'the researcher broke', true]);
  assert.deepEqual(h.told, [], 'no origin chat to tell');
  assert.deepEqual(h.outboxed, [], 'and no chat to answer');
  assert.ok(h.inputs.some((i) => i.group === 'main' && i.input.startsWith('[Results')), 'the sender still read the failure');
  assert.equal(contexts.length, 1);
  assert.match(contexts[0]!, /You have no chat here/);
});

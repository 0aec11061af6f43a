import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

test('a local chat message reaches a real container agent and comes back', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());

  await t.test('the reply is what the model said', async () => {
    h.model.push({ content: 'Hello from the fake model.' });
    const r = await h.say('main', 'hi there');
    assert.equal(r.status, 'queued');
    assert.equal(r.outcome, 'answered');
    assert.deepEqual(r.replies, ['Hello from the fake model.']);
    const call = h.model.requests.at(-1)!;
    assert.equal(call.body.model, 'fake-model');
    assert.equal(call.headers.authorization, `Bearer ${h.canary}`, 'the proxy adds the real key upstream');
    const messages = call.body.messages as { role: string; content: string }[];
    assert.equal(messages.at(-1)!.content, 'hi there');
    assert.match(messages[0]!.content, /^You are Enclave, a helpful chat assistant for the group "main"/);
    assert.match(messages[0]!.content, /Memory of main/, 'group memory is in the system prompt');
    assert.match(messages[0]!.content, /You may edit \/workspace\/memory\/MEMORY.md/, 'the agent is told it may edit its memory');
    assert.match(messages[0]!.content, /small and sharp/, 'global memory is in the system prompt');
  });

  await t.test('a second message reuses the warm container and sees the history', async () => {
    const first = h.app.containers.state('main');
    assert.equal(first.state, 'running');
    h.model.push({ content: 'Second answer.' });
    const r = await h.say('main', 'and again');
    assert.deepEqual(r.replies, ['Second answer.']);
    assert.equal(h.app.containers.state('main').id, first.id, 'same container');
    const messages = h.model.requests.at(-1)!.body.messages as { role: string; content: string }[];
    assert.ok(messages.some((m) => m.role === 'assistant' && m.content === 'Hello from the fake model.'), 'history carried over');
  });

  await t.test('a write_file tool call changes MEMORY.md on the host', async () => {
    h.model.push(
      { toolCalls: [{ name: 'write_file', arguments: JSON.stringify({ path: 'MEMORY.md', content: '# Memory\nThe user likes tea.\n' }) }] },
      { content: 'Noted: you like tea.' },
    );
    const r = await h.say('main', 'remember that I like tea');
    assert.deepEqual(r.replies, ['Noted: you like tea.']);
    const onHost = readFileSync(join(h.home, 'groups', 'main', 'memory', 'MEMORY.md'), 'utf8');
    assert.equal(onHost, '# Memory\nThe user likes tea.\n');
    const toolResult = (h.model.requests.at(-1)!.body.messages as { role: string }[]).find((m) => m.role === 'tool');
    assert.ok(toolResult, 'the tool result went back to the model');
  });

  await t.test('send_message from the agent reaches its own chat before the final answer', async () => {
    h.model.push(
      { toolCalls: [{ name: 'send_message', arguments: JSON.stringify({ text: 'Working on it...' }) }] },
      { content: 'Done.' },
    );
    const r = await h.say('main', 'do a long thing');
    assert.deepEqual(r.replies, ['Working on it...', 'Done.']);
  });

  await t.test('/help, /status and /reset are answered by the host without a model call', async () => {
    const before = h.model.requests.length;
    const help = await h.say('main', '/help');
    assert.equal(help.status, 'command');
    assert.match(help.replies[0]!, /\/status/);
    const status = await h.say('main', '/status');
    assert.match(status.replies[0]!, /Model: fake-model via env/);
    assert.match(status.replies[0]!, /Container: running/);
    assert.match(status.replies[0]!, /Last answer by: fake-model/);
    const reset = await h.say('main', '/reset');
    assert.match(reset.replies[0]!, /fresh conversation/);
    assert.equal(h.model.requests.length, before, 'no model call for commands');
    h.model.push({ content: 'Fresh start.' });
    await h.say('main', 'who am I?');
    const messages = h.model.requests.at(-1)!.body.messages as { role: string; content: string }[];
    assert.equal(messages.filter((m) => m.role !== 'system').length, 1, 'history is empty after /reset');
  });
});

test('with no provider configured, every message gets one clear sentence', { skip }, async () => {
  const h = await startHarness({ noProvider: true });
  try {
    const r = await h.say('main', 'hello?');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.replies.length, 1);
    assert.match(r.replies[0]!, /No model provider is configured, so model fake-model \(group main\) cannot answer\. Store a key with `enclave secrets set OPENAI_API_KEY`/);
    assert.equal(h.model.requests.length, 0);
  } finally {
    await h.stop();
  }
});

test('messages that arrive during a turn join the next turn together', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.model.push({ content: 'first answer', delayMs: 400 }, { content: 'second answer' });
  const first = h.say('main', 'one');
  await waitFor('the first model call', () => h.model.requests.length === 1);
  const second = h.say('main', 'two');
  const third = h.say('main', 'three');
  const [r1, r2, r3] = await Promise.all([first, second, third]);
  assert.deepEqual(r1.replies[0], 'first answer');
  assert.equal(h.model.requests.length, 2, 'two and three were answered in one turn');
  const users = (h.model.requests[1]!.body.messages as { role: string; content: string }[]).filter((m) => m.role === 'user').map((m) => m.content);
  assert.deepEqual(users, ['one', 'two', 'three']);
  assert.equal(r2.outcome, 'answered');
  assert.equal(r3.outcome, 'answered');
  assert.ok(r3.replies.includes('second answer'));
});

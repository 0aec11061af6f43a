import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { Enclave } from '../../src/app.js';
import { sendViaControlSocket } from '../../src/control/control-client.js';
import { silentLogger } from '../../src/logger.js';
import { homeId, homePaths } from '../../src/paths.js';
import { startCliHost } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome, startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';
import { FakeModel } from '../fakes/fake-model.js';

const skip = await dockerSkipReason();

test('a host killed mid-turn answers the message once after it starts again', { skip }, async () => {
  const home = makeHome();
  const model = await FakeModel.start();
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home, OPENAI_API_KEY: 'sk-test-restart', OPENAI_BASE_URL: model.baseUrl };
  model.push({ content: 'too late', delayMs: 120_000 });
  const child = await startCliHost(env);
  const pending = sendViaControlSocket(homePaths(home).controlSocket, { group: 'main', text: 'are you there?' }).catch((e: Error) => e);
  await waitFor('the first model call', () => model.requests.length === 1);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  assert.ok((await pending) instanceof Error, 'the killed host never answered');
  // Until its exit is seen, the killed host is still a process and its instance lock still held.
  await exited;

  model.push({ content: 'Yes, I am here.' });
  let app = await Enclave.start({ home, env, log: silentLogger() });
  try {
    const status = () => app.db.prepare(`SELECT status FROM messages WHERE text = 'are you there?'`).get() as { status: string };
    await waitFor('the message to be answered after the restart', () => status().status === 'answered');
    const sent = () => app.db.prepare(`SELECT text FROM outbox WHERE chat_id = 'main' AND sent_at IS NOT NULL`).all() as { text: string }[];
    const answer = '(Answering your message from before the restart: "are you there?")\n\nYes, I am here.';
    assert.deepEqual(sent(), [{ text: answer }], 'the answer says which question it answers');
    assert.equal(model.requests.length, 2);
    const mine = await new Docker().listContainers({ all: true, filters: { label: [`enclave.home=${homeId(home)}`] } });
    assert.equal(mine.length, 1, 'the killed host\'s container was removed; only the new one runs');

    await app.stop();
    app = await Enclave.start({ home, env, log: silentLogger() });
    await app.queue.idle();
    assert.deepEqual(sent(), [{ text: answer }], 'a second restart sends nothing again');
    assert.equal(model.requests.length, 2, 'and asks the model nothing again');
  } finally {
    await app.stop();
    await model.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a container that dies mid-turn is restarted and the turn still answers', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.model.push({ content: 'warm' });
  await h.say('main', 'warm up');
  const first = h.app.containers.state('main').id!;
  h.model.push({ content: 'never delivered', delayMs: 30_000 }, { content: 'Answered after a restart.' });
  const reply = h.say('main', 'this one survives a crash');
  await waitFor('the model call', () => h.model.requests.length === 2);
  await new Docker().getContainer(first).kill();
  const r = await reply;
  assert.deepEqual(r.replies, ['Answered after a restart.']);
  assert.notEqual(h.app.containers.state('main').id, first);
  assert.equal(h.app.containers.state('main').restarts, 1);
});

test('a turn that keeps crashing tells the user in the chat', { skip }, async (t) => {
  const h = await startHarness({ enclaveYaml: 'container:\n  maxRestarts: 1\n' });
  t.after(() => h.stop());
  h.model.fallback = () => ({ content: 'never delivered', delayMs: 30_000 });
  const reply = h.say('main', 'doomed');
  for (let n = 1; n <= 2; n++) {
    await waitFor(`model call ${n}`, () => h.model.requests.length === n);
    await waitFor(`container ${n}`, () => h.app.containers.state('main').id);
    await new Docker().getContainer(h.app.containers.state('main').id!).kill();
  }
  const r = await reply;
  assert.equal(r.outcome, 'failed');
  assert.equal(r.replies.length, 1);
  assert.match(r.replies[0]!, /^Sorry, I could not answer that: the agent container exited with code \d+.*\(tried 2 times\)/);
});

test('a turn over the time limit is stopped and the user is told', { skip }, async (t) => {
  const h = await startHarness({ enclaveYaml: 'container:\n  turnTimeoutSeconds: 1\n  maxRestarts: 0\n' });
  t.after(() => h.stop());
  h.model.push({ content: 'too slow', delayMs: 20_000 });
  const r = await h.say('main', 'take your time');
  assert.equal(r.outcome, 'failed');
  assert.match(r.replies[0]!, /^Sorry, I could not answer that: the turn took longer than 1 s/);
  assert.equal(h.app.containers.state('main').state, 'stopped', 'the runaway container was stopped');
});

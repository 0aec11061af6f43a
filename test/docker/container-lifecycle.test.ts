import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContainerStateStore } from '../../src/container/container-state-store.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

test('an idle container is stopped and the next message starts a fresh one', { skip }, async (t) => {
  const h = await startHarness({ enclaveYaml: 'container:\n  idleTimeoutSeconds: 1\n' });
  t.after(() => h.stop());
  h.model.push({ content: 'one' });
  await h.say('main', 'first');
  const first = h.app.containers.state('main').id!;
  await waitFor('the idle stop', () => h.app.containers.state('main').state === 'stopped');
  await waitFor('the idle container to be removed', () => new Docker().getContainer(first).inspect().then(() => false, () => true));
  // The host records the stop once Docker has confirmed the removal, a moment after inspect fails.
  await waitFor('the stop recorded in SQLite', () => new ContainerStateStore(h.app.db).get('main')?.state === 'stopped');
  h.model.push({ content: 'two' });
  assert.deepEqual((await h.say('main', 'second')).replies, ['two']);
  assert.notEqual(h.app.containers.state('main').id, first);
  assert.equal(new ContainerStateStore(h.app.db).get('main')?.state, 'running');
});

test('each group has its own container, memory and socket; none sees the other\'s', { skip }, async (t) => {
  const h = await startHarness({
    groups: {
      alpha: 'chats: [local:alpha]\nmodel: fake-model\n',
      beta: 'chats: [local:beta]\nmodel: fake-model\n',
    },
  });
  t.after(() => h.stop());
  h.model.push(
    { toolCalls: [{ name: 'write_file', arguments: JSON.stringify({ path: 'MEMORY.md', content: 'alpha secret plan' }) }] },
    { content: 'saved' },
  );
  await h.say('alpha', 'remember the plan');
  h.model.push(
    { toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: 'cat /workspace/memory/MEMORY.md; ls /run/enclave; ls /workspace' }) }] },
    { content: 'looked' },
  );
  await h.say('beta', 'look around');
  const toolOutput = (h.model.requests.at(-1)!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'tool')!.content;
  assert.match(toolOutput, /Memory of beta/);
  assert.ok(!toolOutput.includes('alpha secret plan'), 'beta cannot read alpha\'s memory');

  const docker = new Docker();
  const [a, b] = await Promise.all(['alpha', 'beta'].map((g) => docker.getContainer(h.app.containers.state(g).id!).inspect()));
  const socketOf = (info: Docker.ContainerInspectInfo) => info.Mounts.find((m) => m.Destination === '/run/enclave')!.Source;
  assert.equal(socketOf(a!), join(h.app.config.paths.runDir, 'alpha'));
  assert.equal(socketOf(b!), join(h.app.config.paths.runDir, 'beta'));
  const memoryOf = (info: Docker.ContainerInspectInfo) => info.Mounts.find((m) => m.Destination === '/workspace/memory')!.Source;
  assert.equal(memoryOf(a!), join(h.home, 'groups', 'alpha', 'memory'));
  assert.equal(memoryOf(b!), join(h.home, 'groups', 'beta', 'memory'));
});

test('what the agent leaves in its memory cannot turn the host against itself', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  const victim = join(h.home, 'host-owned.txt');
  writeFileSync(victim, 'belongs to the host');
  const owner = statSync(victim).uid;
  const script = [
    `ln -s ${victim} /workspace/memory/link-to-host-file`,
    'mkdir -p /workspace/memory/sub && ln -s / /workspace/memory/sub/root',
    'cd /workspace/memory && i=0; while [ $i -lt 1100 ]; do mkdir d && cd d || break; i=$((i+1)); done; echo depth $i',
  ].join('; ');
  h.model.push({ toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: script, timeout_seconds: 100 }) }] }, { content: 'planted' });
  await h.say('main', 'plant things');
  const toolOutput = (h.model.requests.at(-1)!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'tool')!.content;
  assert.match(toolOutput, /depth 1100/);

  await h.app.containers.stop('main');
  h.model.push({ content: 'still here' });
  const r = await h.say('main', 'are you still working?');
  assert.deepEqual(r.replies, ['still here'], 'a deep tree does not lock the group out');
  assert.equal(statSync(victim).uid, owner, 'links in the memory folder are never followed by the host');
  assert.equal(statSync('/etc/passwd').uid, 0);
});

test('a group mapped to several chats answers every chat, one turn each', { skip }, async (t) => {
  const h = await startHarness({ groups: { team: 'chats: [local:one, local:two]\nmodel: fake-model\n' } });
  t.after(() => h.stop());
  h.model.push({ content: 'A', delayMs: 400 }, { content: 'B' }, { content: 'C' });
  const first = h.say('one', 'first');
  await waitFor('the first model call', () => h.model.requests.length === 1);
  const fromTwo = h.say('two', 'from two');
  const againOne = h.say('one', 'again one');
  const results = await Promise.all([first, fromTwo, againOne]);
  assert.deepEqual(results.map((r) => r.outcome), ['answered', 'answered', 'answered']);
  assert.equal(h.model.requests.length, 3);
  const lastUser = (i: number) => (h.model.requests[i]!.body.messages as { role: string; content: string }[]).filter((m) => m.role === 'user').at(-1)!.content;
  assert.deepEqual([lastUser(1), lastUser(2)], ['from two', 'again one'], 'each chat in its own turn, oldest first');
});

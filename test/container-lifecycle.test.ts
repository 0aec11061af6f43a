import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContainerStateStore } from '../src/container/container-state-store.js';
import { dockerSkipReason } from './helpers/docker.js';
import { startHarness } from './helpers/harness.js';
import { waitFor } from './helpers/wait.js';

const skip = await dockerSkipReason();

async function waitForRemoval(id: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const gone = await new Docker().getContainer(id).inspect().then(() => false, () => true);
    if (gone) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`container ${id} was never removed`);
}

test('an idle container is stopped and the next message starts a fresh one', { skip }, async (t) => {
  const h = await startHarness({ enclaveYaml: 'container:\n  idleTimeoutSeconds: 1\n' });
  t.after(() => h.stop());
  h.model.push({ content: 'one' });
  await h.say('main', 'first');
  const first = h.app.containers.state('main').id!;
  await waitFor('the idle stop', () => h.app.containers.state('main').state === 'stopped');
  await waitForRemoval(first);
  assert.equal(new ContainerStateStore(h.app.db).get('main')?.state, 'stopped', 'recorded in SQLite');
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

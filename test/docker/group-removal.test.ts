import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Docker from 'dockerode';
import { LABEL_GROUP, LABEL_HOME } from '../../src/container/spec.js';
import { homeId, homePaths } from '../../src/paths.js';
import { FakeModel } from '../fakes/fake-model.js';
import { runCli, startCliHost } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome } from '../helpers/harness.js';
import { toolCall, toolResultsOf } from '../helpers/model-messages.js';

const skip = await dockerSkipReason();

async function groupContainers(home: string, group: string): Promise<Docker.ContainerInfo[]> {
  return new Docker().listContainers({ all: true, filters: { label: [`${LABEL_HOME}=${homeId(home)}`, `${LABEL_GROUP}=${group}`] } });
}

test('a removed group leaves nothing running, and a group re-added under its name sees a fresh folder only', { skip }, async (t) => {
  const home = makeHome({ groups: { fam: 'chats: [local:fam]\nrequireTrigger: false\nmodel: fake-model\n' } });
  const secret = `old-fam-secret-${Math.random().toString(36).slice(2)}`;
  writeFileSync(join(home, 'groups', 'fam', 'memory', 'secret.txt'), `${secret}\n`);
  const model = await FakeModel.start();
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home, OPENAI_API_KEY: 'sk-test-removal', OPENAI_BASE_URL: model.baseUrl, ENCLAVE_MODEL: 'fake-model' };
  const host = await startCliHost(env);
  t.after(async () => {
    host.kill('SIGTERM');
    await new Promise((resolve) => host.once('exit', resolve));
    await model.close();
    rmSync(home, { recursive: true, force: true });
  });

  model.push({ content: 'hello from fam' });
  const first = await runCli(['send', '--group', 'fam', 'hi'], env);
  assert.equal(first.stdout, 'hello from fam\n', first.stderr);
  assert.equal((await groupContainers(home, 'fam')).length, 1, 'the group has a warm container');
  const socket = join(homePaths(home).runDir, 'fam', 'api.sock');
  assert.ok(existsSync(socket), 'and an open socket');

  const removed = await runCli(['groups', 'remove', 'fam'], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /The running Enclave no longer answers it/);
  assert.deepEqual(await groupContainers(home, 'fam'), [], 'the removed group\'s container is gone at once, not at its idle timeout');
  assert.ok(!existsSync(socket), 'its socket is closed');

  const added = await runCli(['groups', 'add', 'fam', '--chat', 'local:newfam'], env);
  assert.equal(added.code, 0, added.stderr);
  model.push({ toolCalls: [toolCall('list_files', { path: '.' }), toolCall('shell', { command: `grep -r ${secret} /workspace; echo "[done]"` })] }, { content: 'looked' });
  const again = await runCli(['send', '--group', 'fam', 'what is in your memory?'], env);
  assert.equal(again.stdout, 'looked\n', again.stderr);
  const [listing, grep] = toolResultsOf(model.requests.at(-1)!);
  assert.ok(listing !== undefined && !listing.includes('secret.txt'), `the new agent sees a fresh folder: ${listing}`);
  assert.match(grep ?? '', /\[done\]/);
  assert.ok(!grep!.includes(`${secret}\n`), `no file the new agent can read holds the old secret: ${grep}`);
  const [container] = await groupContainers(home, 'fam');
  const mounts = (await new Docker().getContainer(container!.Id).inspect()).Mounts;
  const memory = mounts.find((m) => m.Destination === '/workspace/memory');
  assert.equal(memory?.Source, join(home, 'groups', 'fam', 'memory'), 'the memory mount is the new folder, not one under groups/.removed');
});

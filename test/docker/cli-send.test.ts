import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { homePaths } from '../../src/paths.js';
import { runCli, startCliHost } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome } from '../helpers/harness.js';
import { FakeModel } from '../fakes/fake-model.js';

const skip = await dockerSkipReason();

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return [];
    return st.isDirectory() ? filesUnder(path) : st.isFile() ? [path] : [];
  });
}

test('enclave send: embedded and through a running instance; the key is in no file it wrote', { skip }, async (t) => {
  const home = makeHome();
  const model = await FakeModel.start();
  model.fallback = (req) => ({ content: `echo: ${(req.body.messages as { content: string }[]).at(-1)!.content}` });
  const canary = `sk-canary-cli-${Date.now().toString(36)}`;
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home, OPENAI_API_KEY: canary, OPENAI_BASE_URL: model.baseUrl, ENCLAVE_MODEL: 'fake-model' };
  t.after(async () => {
    await model.close();
    rmSync(home, { recursive: true, force: true });
  });

  const embedded = await runCli(['send', '--group', 'main', 'hello', 'embedded'], env);
  assert.equal(embedded.code, 0, embedded.stderr);
  assert.equal(embedded.stdout, 'echo: hello embedded\n');

  const host = await startCliHost(env);
  try {
    assert.equal(statSync(homePaths(home).controlSocket).mode & 0o777, 0o600, 'only the owner may drive the running host');
    const viaHost = await runCli(['send', '-g', 'main', 'hello running host'], env);
    assert.equal(viaHost.code, 0, viaHost.stderr);
    assert.equal(viaHost.stdout, 'echo: hello running host\n');
    const status = await runCli(['send', '-g', 'main', '/status'], env);
    assert.match(status.stdout, /Container: running/, 'the running host answered, with its warm container');
    model.served = { ids: ['qwen2.5'] };
    model.push({ status: 404, body: { error: { message: 'no such model' } } });
    const unserved = await runCli(['send', '-g', 'main', 'hi again'], env);
    assert.equal(unserved.code, 1, 'a failed turn exits 1');
    assert.match(unserved.stdout, /does not serve model fake-model \(group main\); it serves: qwen2\.5\./);
    model.served = undefined;
    const unknown = await runCli(['send', '-g', 'nope', 'hi'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no group named "nope" \(groups: main\)/);
  } finally {
    host.kill('SIGTERM');
    await new Promise((r) => host.once('exit', r));
  }

  assert.ok(model.requests.every((r) => r.headers.authorization === `Bearer ${canary}`), 'the key went upstream');
  const written = filesUnder(home);
  assert.ok(written.some((f) => f.endsWith('enclave.log')) && written.some((f) => f.endsWith('enclave.db')));
  for (const file of written) assert.ok(!readFileSync(file).includes(canary), `the key is in ${file}`);
});

import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hashContext, locateSources, planContext } from '../../src/container/rootfs.js';

test('any change to the runner changes the image tag, so the image is rebuilt', async (t) => {
  const sources = await locateSources();
  const runnerCopy = await mkdtemp(join(tmpdir(), 'enclave-runner-copy-'));
  t.after(() => rm(runnerCopy, { recursive: true, force: true }));
  await cp(sources.runnerDir, runnerCopy, { recursive: true });

  const original = await hashContext(await planContext({ ...sources, runnerDir: runnerCopy }));
  assert.equal(await hashContext(await planContext({ ...sources, runnerDir: runnerCopy })), original, 'the hash is stable');
  await appendFile(join(runnerCopy, 'runner.js'), '\n// changed\n');
  assert.notEqual(await hashContext(await planContext({ ...sources, runnerDir: runnerCopy })), original);
});

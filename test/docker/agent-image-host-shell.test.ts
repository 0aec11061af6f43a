import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildFromContext } from '../../src/container/image.js';
import { locateSources, planContext, writeContext } from '../../src/container/rootfs.js';
import { AGENT_UID } from '../../src/container/rootfs.js';
import { dockerOrSkip, runOnce } from '../helpers/agent-docker.js';

// A fresh host may have no busybox: the image then carries the host's own /bin/sh and tools.
test('without busybox the image is built from the host\'s shell and tools, and works', { timeout: 300_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const sources = await locateSources('host');
  assert.equal(sources.shell.kind, 'host');
  const entries = await planContext(sources);
  const paths = new Set(entries.map((e) => e.path));
  assert.ok(paths.has('rootfs/bin/sh') && paths.has('rootfs/bin/ls') && !paths.has('rootfs/bin/busybox'));

  const tag = `enclave-agent-test:host-shell-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'enclave-host-shell-'));
  t.after(async () => {
    await rm(dir, { recursive: true, force: true });
    await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  });
  await writeContext(entries, dir);
  await buildFromContext(docker, dir, tag, {});

  const run = await runOnce(docker, tag, {
    entrypoint: ['/bin/sh', '-c'],
    cmd: ['ls / | grep -c workspace; echo hello | grep -o ell; id -u; node -e "console.log(1 + 1)"'],
  });
  assert.equal(run.exitCode, 0, run.stderr);
  assert.equal(run.stdout, `1\nell\n${AGENT_UID}\n2\n`);
});

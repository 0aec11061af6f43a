import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_GID, AGENT_UID } from '../../src/container/rootfs.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';

const skip = await dockerSkipReason();

/** Runs a shell command inside the container as its own (non-root) user and returns stdout+stderr. */
async function execIn(container: Docker.Container, script: string): Promise<string> {
  const exec = await container.exec({ Cmd: ['/bin/sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  container.modem.demuxStream(stream, out, out);
  await new Promise<void>((resolve) => stream.on('end', resolve));
  return Buffer.concat(chunks).toString('utf8');
}

test('agent containers are locked down and hold no secret', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  h.model.push({ content: 'up' });
  await h.say('main', 'start the container');
  const id = h.app.containers.state('main').id!;
  const container = new Docker().getContainer(id);
  const info = await container.inspect();

  await t.test('Docker reports every invariant-6 option', () => {
    const hc = info.HostConfig;
    assert.equal(hc.NetworkMode, 'none');
    assert.equal(hc.ReadonlyRootfs, true);
    assert.deepEqual(hc.CapDrop, ['ALL']);
    assert.deepEqual(hc.CapAdd ?? [], []);
    assert.ok(hc.SecurityOpt?.includes('no-new-privileges'));
    assert.equal(hc.Privileged, false);
    assert.ok((hc.Memory ?? 0) > 0 && (hc.NanoCpus ?? 0) > 0 && (hc.PidsLimit ?? 0) > 0, 'memory, CPU and pids limits');
    assert.ok(hc.Tmpfs && '/tmp' in hc.Tmpfs, '/tmp is a tmpfs');
    assert.notEqual(info.Config.User, '');
    assert.ok(!info.Config.User.startsWith('0') && !info.Config.User.startsWith('root'), `non-root user, got ${info.Config.User}`);
    assert.equal(info.Config.User, `${AGENT_UID}:${AGENT_GID}`, 'a uid no host account has');
    const mounts = info.Mounts.map((m) => `${m.Source} -> ${m.Destination}:${m.RW ? 'rw' : 'ro'}`).sort();
    assert.deepEqual(mounts, [
      `${join(h.app.config.paths.runDir, 'main')} -> /run/enclave:ro`,
      `${join(h.home, 'groups', 'global', 'memory')} -> /workspace/global:ro`,
      `${join(h.home, 'groups', 'main', 'inbox')} -> /workspace/inbox:ro`,
      `${join(h.home, 'groups', 'main', 'memory')} -> /workspace/memory:rw`,
    ]);
    assert.equal(statSync(join(h.home, 'groups', 'main')).mode & 0o777, 0o700, 'no other host account reaches the agent\'s files');
    assert.ok(info.Mounts.every((m) => !m.Source.includes('docker.sock')), 'no Docker socket');
    assert.ok(!JSON.stringify(info).includes(h.canary), 'the key is nowhere in the container definition');
  });

  await t.test('the canary key is nowhere inside: env, /proc, files, mounts', async () => {
    const dump = await execIn(
      container,
      'id -u; env; cat /proc/*/environ /proc/*/cmdline /proc/mounts 2>/dev/null; ls -R /workspace /run/enclave 2>&1',
    );
    assert.match(dump, /^[1-9]\d*\n/, 'runs as a non-root uid');
    assert.ok(dump.includes('ENCLAVE_GROUP=main'), 'the dump really contains the environment');
    assert.ok(!dump.includes(h.canary), 'canary found in env, /proc or mounts');
    // The pattern is the canary's prefix, not the canary, so the search cannot find itself.
    const files = await execIn(
      container,
      'for d in /* /.??*; do case "$d" in /proc|/sys|/dev) ;; *) [ -e "$d" ] && grep -rls "sk-canary-" "$d";; esac; done; echo scanned',
    );
    assert.equal(files.trim(), 'scanned', `files holding a canary-like value: ${files}`);
    assert.ok(!(await execIn(container, 'cat /proc/1/environ; cat /proc/self/environ')).includes('OPENAI'), 'no provider variables at all');
  });

  await t.test('there is no network: only loopback, no route, the host is unreachable', async () => {
    const ifaces = await execIn(container, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    assert.deepEqual(ifaces.trim().split('\n'), ['lo']);
    const routes = await execIn(container, 'tail -n +2 /proc/net/route');
    assert.equal(routes.trim(), '', 'no routes');
    const port = new URL(h.model.baseUrl).port;
    const tcp = await execIn(
      container,
      `node -e "const s=require('net').connect(${port},'127.0.0.1');s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});s.on('error',e=>{console.log('FAILED',e.code);process.exit(0)})"`,
    );
    assert.match(tcp, /FAILED (ECONNREFUSED|ENETUNREACH)/, `the host's model server must be out of reach: ${tcp}`);
  });

  await t.test('the only writable places are the memory folder and /tmp', async () => {
    const out = await execIn(container, 'touch /usr/x 2>&1; touch /workspace/global/x 2>&1; touch /run/enclave/x 2>&1; touch /workspace/memory/ok && echo MEMORY_OK');
    assert.equal((out.match(/Read-only file system/g) ?? []).length, 3, out);
    assert.match(out, /MEMORY_OK/);
  });
});

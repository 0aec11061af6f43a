import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_GID, AGENT_UID, ensureAgentImage } from '../../src/container/image.js';
import { dockerOrSkip, runOnce } from '../helpers/agent-docker.js';

test('the agent image builds offline, is reused, and runs locked down', { timeout: 300_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;

  const progress: string[] = [];
  const first = await ensureAgentImage(docker, { onProgress: (line) => progress.push(line) });
  assert.match(first.tag, /^enclave-agent:[0-9a-f]{12}$/);
  if (first.built) assert.ok(progress.some((line) => /Successfully tagged/.test(line)), progress.join('\n'));
  t.diagnostic(`image ${first.tag}: built=${first.built} in ${first.seconds} s`);

  const second = await ensureAgentImage(docker);
  assert.deepEqual({ tag: second.tag, built: second.built }, { tag: first.tag, built: false });

  const info = await docker.getImage(first.tag).inspect();
  assert.equal(info.Config.User, `${AGENT_UID}:${AGENT_GID}`);
  assert.equal(info.Config.Labels?.['enclave.agent'], '1');
  assert.deepEqual(info.Config.Env.map((e) => e.split('=')[0]).sort(), ['HOME', 'PATH']);
  t.diagnostic(`image size ${Math.round(info.Size / 1e6)} MB`);

  const started = Date.now();
  const node = await runOnce(docker, first.tag, {
    entrypoint: ['/usr/bin/node'],
    cmd: ['-e', 'console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), version: process.version }))'],
  });
  t.diagnostic(`docker run of node -e took ${Date.now() - started} ms`);
  assert.equal(node.exitCode, 0, node.stderr);
  assert.deepEqual(JSON.parse(node.stdout), { uid: AGENT_UID, gid: AGENT_GID, version: process.version });

  const shell = await runOnce(docker, first.tag, { entrypoint: ['/bin/sh'], cmd: ['-c', 'ls /; id -u; pwd; touch /rootfs-write 2>/dev/null || echo read-only'] });
  assert.equal(shell.exitCode, 0, shell.stderr);
  const lines = shell.stdout.trim().split('\n');
  for (const dir of ['app', 'bin', 'tmp', 'workspace', 'run']) assert.ok(lines.includes(dir), `ls / lists ${dir}: ${shell.stdout}`);
  assert.deepEqual(lines.slice(-3), [String(AGENT_UID), '/workspace/memory', 'read-only']);

  const openai = await runOnce(docker, first.tag, {
    entrypoint: ['/usr/bin/node'],
    cmd: ['-e', "import('openai').then((m) => console.log(typeof m.default))"],
    workingDir: '/app',
  });
  assert.equal(openai.stdout.trim(), 'function', openai.stderr);
});

test('the agent image holds no secrets: clean env, no key or env files', { timeout: 300_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const { tag } = await ensureAgentImage(docker);

  const env = await runOnce(docker, tag, { entrypoint: ['/bin/env'] });
  assert.equal(env.exitCode, 0, env.stderr);
  const names = env.stdout.trim().split('\n').map((line) => line.split('=')[0]).sort();
  // Docker itself always sets HOSTNAME; everything else must come from the image.
  assert.deepEqual(names.filter((n) => n !== 'HOSTNAME'), ['HOME', 'PATH']);

  const named = (patterns: string[]): string[] => patterns.flatMap((p, i) => (i === 0 ? ['-iname', p] : ['-o', '-iname', p]));
  const keyFiles = ['*.pem', '*.key', '*.p12', '.env', '*.env', '.env.*', 'enclave.yaml', '*vault-key*', 'id_rsa*', 'id_ed25519*', '.npmrc', '.netrc'];
  // The openai library has modules named like client-secrets.js or api-keys.js: code, not secrets.
  const secretWords = ['*secret*', '*token*', '*credential*', '*password*'];
  const find = await runOnce(docker, tag, {
    entrypoint: ['/bin/find'],
    cmd: [
      '/', '-xdev', '(', ...named(keyFiles), ')', '-print', '-o',
      '-path', '/app/node_modules/openai', '-prune', '-o', '(', ...named(secretWords), ')', '-print',
    ],
  });
  assert.equal(find.exitCode, 0, find.stderr);
  assert.equal(find.stdout.trim(), '', `files that look like secrets: ${find.stdout}`);
});

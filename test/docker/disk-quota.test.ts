import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { freeBytesAt } from '../../src/db/disk-space.js';
import { DISK_FULL_REFUSAL } from '../../src/db/storage-health.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness, type Harness } from '../helpers/harness.js';

const dockerSkip = await dockerSkipReason();
const skip = dockerSkip || (process.getuid?.() !== 0 && 'needs root: the home is a small loop-mounted filesystem');
const MB = 1024 * 1024;
const GROUPS = {
  main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n',
  other: 'chats: [local:other]\nrequireTrigger: false\nmodel: fake-model\n',
};

/** A 64 MB ext4 filesystem, loop-mounted, that holds ENCLAVE_HOME: filling it is cheap and harms nothing else. */
function smallFilesystem(t: TestContext): string {
  const base = mkdtempSync(join(tmpdir(), 'enc-fs-'));
  const image = `${base}.img`;
  execFileSync('truncate', ['-s', '64M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
  execFileSync('mount', ['-o', 'loop', image, base]);
  t.after(() => {
    execFileSync('umount', ['-l', base]);
    rmSync(image, { force: true });
    rmSync(base, { recursive: true, force: true });
  });
  return base;
}

async function hostOn(t: TestContext, fs: string, lines: string[]): Promise<Harness> {
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = fs;
  try {
    const log = pino({ level: 'info' }, { write: (line: string) => { lines.push(line); if (process.env.DISK_DEBUG) process.stderr.write(line); } });
    const h = await startHarness({ groups: GROUPS, enclaveYaml: 'container:\n  diskMb: 8\n', log });
    t.after(() => h.stop());
    return h;
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
}

function mountsAt(path: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path).length;
}

function lastToolOutput(h: Harness): string {
  const messages = (h.model.requests.at(-1)?.body.messages ?? []) as Array<{ role: string; content: unknown }>;
  return String(messages.filter((m) => m.role === 'tool').at(-1)?.content ?? '');
}

test('an agent that fills its memory folder meets ENOSPC at container.diskMb; the host disk keeps its space', { skip }, async (t) => {
  const fs = smallFilesystem(t);
  const h = await hostOn(t, fs, []);
  const memory = join(h.home, 'groups', 'main', 'memory');

  h.model.push(
    { toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: 'dd if=/dev/zero of=/workspace/memory/fill bs=1M count=64 2>&1; echo rc=$?', timeout_seconds: 60 }) }] },
    { content: 'I tried.' },
  );
  const filled = await h.say('main', 'fill your disk');
  assert.deepEqual(filled.replies, ['I tried.']);
  const output = lastToolOutput(h);
  assert.match(output, /No space left on device/, output);
  assert.match(output, /rc=1/);
  assert.ok(freeBytesAt(h.home) > 24 * MB, `the host's filesystem kept its space (${Math.round(freeBytesAt(h.home) / MB)} MB free)`);
  assert.ok(readFileSync(join(memory, 'MEMORY.md'), 'utf8').startsWith('# Memory of main'), 'the host still reads MEMORY.md at its usual path');

  h.model.push({ content: 'other is fine' });
  assert.deepEqual((await h.say('other', 'are you there?')).replies, ['other is fine'], 'another group is answered');

  await h.restart();
  assert.equal(mountsAt(memory), 0, 'mounted only while a container needs it: the restart unmounted it, nothing is stacked');
  h.model.push({ toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: 'ls -la /workspace/memory; rm /workspace/memory/fill; echo removed=$?' }) }] }, { content: 'cleaned' });
  assert.deepEqual((await h.say('main', 'clean up')).replies, ['cleaned'], 'the filled group starts again after a restart');
  assert.match(lastToolOutput(h), /fill[\s\S]*removed=0/);
  assert.equal(mountsAt(memory), 1);
});

test('a full ENCLAVE_HOME disk: logged, the owner told, turns refused, and all resumes when space is freed', { skip }, async (t) => {
  const fs = smallFilesystem(t);
  const lines: string[] = [];
  const h = await hostOn(t, fs, lines);
  h.model.push({ content: 'warm' });
  assert.deepEqual((await h.say('main', 'hello')).replies, ['warm']);
  await h.restart();
  // An empty WAL (a connection may have kept the old one to reuse) and no free block: from now on every write must grow a file.
  h.app.db.pragma('wal_checkpoint(TRUNCATE)');
  const filler = join(h.home, 'filler');
  await promisify(execFile)('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=200']).catch(() => undefined);
  await promisify(execFile)('dd', ['if=/dev/zero', `of=${filler}-tail`, 'bs=4k', 'count=1000']).catch(() => undefined);
  assert.ok(freeBytesAt(h.home) < 64 * 1024, `the home filesystem is full (${freeBytesAt(h.home)} bytes free)`);

  // The first writes may still fit in blocks the filesystem had set aside; within a few messages one meets the full disk.
  const said: string[] = [];
  for (let i = 0; i < 10 && !said.includes(DISK_FULL_REFUSAL); i++) {
    said.push(...(await h.say('main', `please answer ${i}`)).replies);
  }
  assert.ok(said.includes(DISK_FULL_REFUSAL), JSON.stringify(said));
  assert.ok(said.some((r) => /disk is full/.test(r) && /docker image prune/.test(r)), 'the owner is told what to free');
  const refused = await h.say('main', 'and now?');
  assert.equal(refused.status, 'refused', 'refused at the door while the disk stays full');
  assert.ok(lines.some((l) => /the disk holding ENCLAVE_HOME is full/.test(l)), 'a clear log line');
  assert.equal((await h.say('other', 'and you?')).status, 'refused', 'no new turn anywhere while full');

  const cli = await promisify(execFile)(process.execPath, [join(process.cwd(), 'dist', 'src', 'cli', 'main.js'), 'start'], { env: { ...process.env, ENCLAVE_HOME: h.home } }).then(
    () => '',
    (err: { stderr: string }) => err.stderr,
  );
  assert.match(cli, /is full/, `enclave start says so: ${cli}`);
  assert.match(cli, /filler/, 'and names the largest file to delete');

  rmSync(filler);
  rmSync(`${filler}-tail`);
  h.model.push({ content: 'back again' });
  const back = await h.say('main', 'now?');
  assert.ok(back.replies.includes('back again'), JSON.stringify(back.replies));
  assert.ok(back.replies.some((r) => /Disk space is back/.test(r)), 'the owner is told it resumed');
  // Messages whose turn could not be recorded were kept and run again at the start: nothing is lost.
  h.model.fallback = () => ({ content: 'after restart' });
  await h.restart();
  assert.deepEqual((await h.say('other', 'still ok?')).replies, ['after restart']);
  assert.equal(existsSync(filler), false);
});

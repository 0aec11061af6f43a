import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DiskLimitError, ensureGroupDisk, isMountPoint, memoryImagePath, releaseGroupDisk } from '../../src/container/group-disk.js';

const asRoot = process.getuid?.() === 0;

function groupDir(): { name: string; dir: string; memoryDir: string } {
  const dir = join(mkdtempSync(join(tmpdir(), 'enc-disk-')), 'g');
  mkdirSync(join(dir, 'memory'), { recursive: true });
  return { name: 'g', dir, memoryDir: join(dir, 'memory') };
}

/** Writes 1 MiB blocks until the filesystem refuses; returns the error code. */
function fill(file: string): string | undefined {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', 'count=64'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return /No space left on device/.test(String((err as { stderr?: Buffer }).stderr)) ? 'ENOSPC' : String(err);
  }
}

describe('group disk (kernel-enforced size of a group\'s memory folder)', () => {
  test('without root and without an explicit opt-out it refuses to run unlimited, saying what to do', async () => {
    const g = groupDir();
    await assert.rejects(ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000, isRoot: false }), (err: Error) => {
      assert.ok(err instanceof DiskLimitError);
      assert.match(err.message, /container\.diskMb: 0/);
      assert.match(err.message, /Run Enclave as root/);
      return true;
    });
    assert.equal(await ensureGroupDisk(g, { diskMb: 0, uid: 1000, gid: 1000, isRoot: false }), 'unlimited');
  });

  test('a memory folder that is a symbolic link is never mounted over', async () => {
    const g = groupDir();
    execFileSync('rm', ['-rf', g.memoryDir]);
    symlinkSync('/etc', g.memoryDir);
    await assert.rejects(ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000, isRoot: true }), /symbolic link/);
  });

  test('as root: existing files move into the image, links stay links, a write past the limit fails with ENOSPC', { skip: !asRoot && 'needs root for loop mounts' }, async (t) => {
    const g = groupDir();
    writeFileSync(join(g.memoryDir, 'MEMORY.md'), '# kept\n');
    symlinkSync('/etc/shadow', join(g.memoryDir, 'planted'));
    t.after(() => releaseGroupDisk(g));
    assert.equal(await ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000 }), 'image');
    assert.ok(isMountPoint(g.memoryDir, g.dir));
    assert.equal(readFileSync(join(g.memoryDir, 'MEMORY.md'), 'utf8'), '# kept\n');
    assert.ok(lstatSync(join(g.memoryDir, 'planted')).isSymbolicLink());
    assert.equal(readlinkSync(join(g.memoryDir, 'planted')), '/etc/shadow');
    assert.equal(existsSync(`${g.memoryDir}.migrating`), false);

    assert.equal(fill(join(g.memoryDir, 'big')), 'ENOSPC');
    const onHost = execFileSync('du', ['-sxm', '--apparent-size', g.dir]).toString();
    assert.ok(Number(onHost.split('\t')[0]) <= 17, `the group uses at most its limit on the host: ${onHost}`);

    await releaseGroupDisk(g);
    assert.equal(isMountPoint(g.memoryDir, g.dir), false);
    assert.ok(existsSync(memoryImagePath(g)));
    // Mounted again (next start), the files are still there.
    assert.equal(await ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000 }), 'image');
    assert.equal(readFileSync(join(g.memoryDir, 'MEMORY.md'), 'utf8'), '# kept\n');
  });

  test('as root: a larger diskMb grows the image, keeping its files', { skip: !asRoot && 'needs root for loop mounts' }, async (t) => {
    const g = groupDir();
    t.after(() => releaseGroupDisk(g));
    await ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000 });
    assert.equal(lstatSync(g.memoryDir).uid, 1000, 'the image root belongs to the agent');
    writeFileSync(join(g.memoryDir, 'note.txt'), 'hello');
    await releaseGroupDisk(g);
    await ensureGroupDisk(g, { diskMb: 32, uid: 1000, gid: 1000 });
    assert.equal(readFileSync(join(g.memoryDir, 'note.txt'), 'utf8'), 'hello');
    const size = Number(execFileSync('df', ['--output=size', '-m', g.memoryDir]).toString().split('\n')[1]);
    assert.ok(size > 20 && size <= 32, `filesystem size ${size} MB`);
  });

  test('as root: a removed group (its folder moved aside) is unmounted at its new place, its files kept in memory.img', { skip: !asRoot && 'needs root for loop mounts' }, async () => {
    const g = groupDir();
    await ensureGroupDisk(g, { diskMb: 16, uid: 1000, gid: 1000 });
    writeFileSync(join(g.memoryDir, 'MEMORY.md'), 'old group');
    const kept = `${g.dir}-removed`;
    renameSync(g.dir, kept);
    await releaseGroupDisk({ dir: kept, memoryDir: join(kept, 'memory') });
    assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(kept), false, 'no mount left behind');
    assert.ok(existsSync(join(kept, 'memory.img')));
    assert.equal(existsSync(join(kept, 'memory', 'MEMORY.md')), false, 'the files live in the image, not the folder');
  });

  test('as root: a host disk without room for the image is a clear error, and no sparse image takes the space that is left', { skip: !asRoot && 'needs root for a small tmpfs' }, async (t) => {
    const host = mkdtempSync(join(tmpdir(), 'enc-small-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', host]);
    t.after(() => execFileSync('umount', ['-l', host]));
    const dir = join(host, 'g');
    mkdirSync(join(dir, 'memory'), { recursive: true });
    assert.equal(fill(join(host, 'filler')), 'ENOSPC');
    execFileSync('truncate', ['-s', '6M', join(host, 'filler')]);
    await assert.rejects(ensureGroupDisk({ name: 'g', dir, memoryDir: join(dir, 'memory') }, { diskMb: 16, uid: 1000, gid: 1000, isRoot: true }), (err: Error) => {
      assert.ok(err instanceof DiskLimitError, String(err));
      assert.match(err.message, /no room for a 16 MB memory disk/);
      assert.match(err.message, /lower container\.diskMb/);
      return true;
    });
    assert.deepEqual(readdirSync(dir).sort(), ['memory'], 'no image (sparse or partial) was left behind');
  });
});

import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How a group's writable storage is bounded: its own ext4 image, a filesystem the owner mounted there, or not at all. */
export type DiskLimit = 'image' | 'external' | 'unlimited';

export interface GroupDiskInput {
  name: string;
  /** groups/<name>: holds memory.img beside the memory folder. */
  dir: string;
  /** groups/<name>/memory: the image is mounted here, so the bind mount and the owner see the same path. */
  memoryDir: string;
}

export interface GroupDiskOptions {
  /** container.diskMb; 0 = the owner chose no limit. */
  diskMb: number;
  uid: number;
  gid: number;
  /** Whether this process may loop-mount (root); injectable for tests. */
  isRoot?: boolean;
}

/** The size limit cannot be set up; the message says what the owner can do. */
export class DiskLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiskLimitError';
  }
}

export function memoryImagePath(group: Pick<GroupDiskInput, 'dir'>): string {
  return join(group.dir, 'memory.img');
}

/** A folder is a mount point when it sits on another device than its parent. */
export function isMountPoint(dir: string, parent: string): boolean {
  try {
    return statSync(dir).dev !== statSync(parent).dev;
  } catch {
    return false;
  }
}

/**
 * Bounds the group's memory folder by the kernel: as root, a fully allocated ext4 image of diskMb
 * per group (groups/<name>/memory.img), loop-mounted at the memory folder itself, so a write past the
 * limit fails with ENOSPC inside the container and the host's filesystem never fills. Files already in
 * the folder are moved into the image on first use. Without root the owner must have mounted a
 * size-limited filesystem there, or have set diskMb to 0; otherwise this refuses.
 */
export async function ensureGroupDisk(group: GroupDiskInput, opts: GroupDiskOptions): Promise<DiskLimit> {
  if (opts.diskMb === 0) return 'unlimited';
  mkdirSync(group.memoryDir, { recursive: true });
  // mount(8) would follow a link and mount the image wherever it points.
  if (lstatSync(group.memoryDir).isSymbolicLink()) throw new DiskLimitError(`${group.memoryDir} is a symbolic link; make it a plain folder`);
  const image = memoryImagePath(group);
  // Mounted already: our image, left by a host that was killed (released at this host's stop), or the owner's own.
  if (isMountPoint(group.memoryDir, group.dir)) return existsSync(image) ? 'image' : 'external';
  if (!(opts.isRoot ?? process.getuid?.() === 0)) {
    throw new DiskLimitError(
      `group ${group.name}: its memory folder has no size limit, and only root can give it one (container.diskMb: ${opts.diskMb}). ` +
        `Run Enclave as root, mount a size-limited filesystem at ${group.memoryDir} yourself, ` +
        'or set container.diskMb: 0 in enclave.yaml to run without a limit.',
    );
  }
  if (!existsSync(image)) await createImage(image, opts);
  else await growImage(image, opts.diskMb);
  await mountWithContents(group, image);
  return 'image';
}

/** Unmounts the group's image (after its container is gone); a mount still in use is detached lazily. */
export async function releaseGroupDisk(group: Pick<GroupDiskInput, 'dir' | 'memoryDir'>): Promise<void> {
  if (!existsSync(memoryImagePath(group)) || !isMountPoint(group.memoryDir, group.dir)) return;
  await run('umount', [group.memoryDir]).catch(() => run('umount', ['-l', group.memoryDir]));
}

async function createImage(image: string, opts: GroupDiskOptions): Promise<void> {
  const partial = `${image}.partial`;
  const bytes = String(opts.diskMb * 1024 * 1024);
  await allocate(partial, bytes).catch((err: unknown) => {
    rmSync(partial, { force: true });
    throw err;
  });
  await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'enclave-mem', '-E', `root_owner=${opts.uid}:${opts.gid}`, partial]);
  renameSync(partial, image);
}

/**
 * Allocated up front: a sparse image could meet a full host disk later and fail with EIO instead of
 * ENOSPC, and would let an agent take host space it was never given. Only a filesystem that cannot
 * allocate at all gets a sparse file; a host disk without room is an error.
 */
async function allocate(file: string, bytes: string): Promise<void> {
  try {
    await run('fallocate', ['-l', bytes, file]);
  } catch (err) {
    if (/No space left on device/.test(String((err as { stderr?: string }).stderr))) {
      throw new DiskLimitError(`The host disk has no room for a ${Math.round(Number(bytes) / 1024 / 1024)} MB memory disk (${file}). Free space on it, or lower container.diskMb in enclave.yaml.`);
    }
    await run('truncate', ['-s', bytes, file]);
  }
}

async function growImage(image: string, diskMb: number): Promise<void> {
  const wanted = diskMb * 1024 * 1024;
  if (statSync(image).size >= wanted) return;
  await allocate(image, String(wanted));
  // Exit code 1 means e2fsck fixed something (it puts back lost+found, which the mount removes): fine.
  await run('e2fsck', ['-f', '-p', image]).catch((err: { code?: number }) => {
    if (err.code !== 1) throw err;
  });
  await run('resize2fs', [image]);
}

/**
 * Mounts the image at the memory folder. Files found in the folder (a group from before limits, or a
 * run that stopped mid-move) are copied in with `cp -a`, which copies links as links and follows none.
 */
async function mountWithContents(group: GroupDiskInput, image: string): Promise<void> {
  const pending = `${group.memoryDir}.migrating`;
  if (readdirSync(group.memoryDir).length > 0) {
    if (existsSync(pending)) throw new DiskLimitError(`both ${group.memoryDir} and ${pending} hold files; merge them by hand`);
    renameSync(group.memoryDir, pending);
    mkdirSync(group.memoryDir);
  }
  await run('mount', ['-o', 'loop,nosuid,nodev,noatime', image, group.memoryDir]);
  try {
    rmdirSync(join(group.memoryDir, 'lost+found'));
  } catch {
    // Not there (already removed) or not empty (the filesystem was repaired): leave it.
  }
  if (!existsSync(pending)) return;
  try {
    await run('cp', ['-a', `${pending}/.`, `${group.memoryDir}/`]);
  } catch (err) {
    await run('umount', [group.memoryDir]).catch(() => undefined);
    throw new DiskLimitError(
      `group ${group.name}: its files (${pending}) do not fit into container.diskMb; raise the limit and start again ` +
        `(${(err as Error).message.split('\n')[0]})`,
    );
  }
  await run('rm', ['-rf', pending]);
}

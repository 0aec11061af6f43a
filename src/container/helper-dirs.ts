import { randomBytes } from 'node:crypto';
import { chmodSync, lchownSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ensureGroupDisk, releaseGroupDisk } from './group-disk.js';

/** Helper names carry a dot, which no group name may: a helper's container, socket or folder never meets a group's. */
const HELPER_PREFIX = 'h.';

export function newHelperName(): string {
  return `${HELPER_PREFIX}${randomBytes(5).toString('hex')}`;
}

export function isHelperName(name: string): boolean {
  return name.startsWith(HELPER_PREFIX);
}

/** A helper's scratch folder: `work` (its workspace, read-write, size-bounded like a memory folder) and `empty` (mounted read-only where a group has global memory and its inbox). */
export interface ScratchDir {
  dir: string;
  work: string;
  empty: string;
}

export async function prepareScratchDir(dir: string, opts: { uid: number; gid: number; diskMb: number }): Promise<ScratchDir> {
  const scratch = { dir, work: join(dir, 'work'), empty: join(dir, 'empty') };
  mkdirSync(scratch.work, { recursive: true, mode: 0o700 });
  mkdirSync(scratch.empty, { mode: 0o755 });
  chmodSync(dir, 0o700);
  await ensureGroupDisk({ name: basename(dir), dir, memoryDir: scratch.work }, opts);
  if (process.getuid?.() === 0) lchownSync(scratch.work, opts.uid, opts.gid);
  return scratch;
}

/** Unmounts the scratch disk (if any) and deletes the folder; never throws. */
export async function removeScratchDir(dir: string): Promise<void> {
  await releaseGroupDisk({ dir, memoryDir: join(dir, 'work') }).catch(() => undefined);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Still mounted (a lazy unmount in progress): the next start removes it.
  }
}

/** At start: scratch folders and helper sockets a stopped or crashed host left behind; returns how many. */
export async function removeLeftoverHelperDirs(scratchRoot: string, runDir: string): Promise<number> {
  const names = (root: string) => {
    try {
      return readdirSync(root).filter(isHelperName);
    } catch {
      return [];
    }
  };
  const scratch = names(scratchRoot);
  for (const name of scratch) await removeScratchDir(join(scratchRoot, name));
  for (const name of names(runDir)) rmSync(join(runDir, name), { recursive: true, force: true });
  return scratch.length;
}

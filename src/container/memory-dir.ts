import { chmodSync, lchownSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GroupConfig } from '../config/groups.js';
import { ensureGroupDisk, type DiskLimit } from './group-disk.js';

/**
 * Makes the group's memory folder the agent's: bounded by its own disk (group-disk.ts), the folder and
 * its top-level entries belong to the agent's uid, and the group folder around it is 0700 so no other
 * host account can reach what the agent leaves there (a setuid file, say). Nothing below the top level
 * is touched: what the agent created is already its own, and a walk would follow whatever links it planted.
 */
export async function prepareMemoryDir(group: GroupConfig, uid: number, gid: number, diskMb: number): Promise<DiskLimit> {
  mkdirSync(group.memoryDir, { recursive: true });
  chmodSync(group.dir, 0o700);
  const limit = await ensureGroupDisk(group, { diskMb, uid, gid });
  if (process.getuid?.() !== 0) return limit;
  lchownSync(group.memoryDir, uid, gid);
  for (const name of readdirSync(group.memoryDir)) {
    const path = join(group.memoryDir, name);
    // lchown never follows a link; the memory folder itself cannot be swapped (it is the mount point).
    if (!lstatSync(path).isSymbolicLink()) lchownSync(path, uid, gid);
  }
  return limit;
}

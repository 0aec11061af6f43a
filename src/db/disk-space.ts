import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DEFAULT_MIN_FREE_BYTES, formatMb, freeBytesOf } from './storage-health.js';

/** Free bytes on the filesystem that holds (or will hold) path. */
export function freeBytesAt(path: string): number {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return freeBytesOf(dir);
}

/** The largest files under dir, on its own filesystem, links not followed; the walk stops after maxEntries. */
export function largestFiles(dir: string, count = 5, maxEntries = 20_000): Array<{ path: string; bytes: number }> {
  const found: Array<{ path: string; bytes: number }> = [];
  let device: number;
  try {
    device = lstatSync(dir).dev;
  } catch {
    return [];
  }
  const pending = [dir];
  let seen = 0;
  while (pending.length > 0 && seen < maxEntries) {
    const current = pending.pop()!;
    let names: string[];
    try {
      names = readdirSync(current);
    } catch {
      continue;
    }
    for (const name of names) {
      seen += 1;
      const path = join(current, name);
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (!stat || stat.dev !== device) continue;
      if (stat.isDirectory()) pending.push(path);
      else if (stat.isFile()) found.push({ path, bytes: stat.size });
    }
  }
  return found.sort((a, b) => b.bytes - a.bytes).slice(0, count);
}

/** What `enclave start` says when the home's disk is too full to run: how full, and what to delete. */
export function diskFullAdvice(home: string): string {
  const free = freeBytesAt(home);
  const biggest = largestFiles(home)
    .map((f) => `  ${formatMb(f.bytes).padStart(10)}  ${relative(home, f.path)}`)
    .join('\n');
  return (
    `the disk holding ENCLAVE_HOME (${home}) is full: ${formatMb(free)} free, and Enclave needs at least ${formatMb(DEFAULT_MIN_FREE_BYTES)}.\n` +
    'Free some space and start again: delete data/enclave.log (the host log), groups/.removed/ (removed groups), ' +
    'unused Docker images (`docker image prune`) if Docker shares this disk, or anything else you do not need.' +
    (biggest ? `\nThe largest files in ENCLAVE_HOME:\n${biggest}` : '')
  );
}

export function hasRoomToStart(home: string): boolean {
  try {
    return freeBytesAt(home) >= DEFAULT_MIN_FREE_BYTES;
  } catch {
    return true;
  }
}

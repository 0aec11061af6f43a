import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { basename, isAbsolute, relative, sep } from 'node:path';
import { ToolRefusal } from './host-tool.js';
import { formatMb } from '../db/storage-health.js';

/** A file the host read from a group's memory folder on the agent's behalf. */
export interface MemoryFile {
  /** The path as the agent named it, relative to the memory folder. */
  path: string;
  /** The last part of the path. */
  name: string;
  bytes: Buffer;
}

/** For tests: runs after each directory of the path is opened, the moment an agent could swap it. */
export type AfterDirectoryOpened = (relativeDir: string) => void;

/**
 * Reads one regular file from the memory folder for the host, treating every part of the path as
 * hostile: relative only, no `..`, and walked one name at a time, each looked up inside the
 * directory already opened (/proc/self/fd/<fd>/<name>) with O_NOFOLLOW, so a parent the agent swaps
 * for a link afterwards is never followed and nothing outside the folder is ever opened. A FIFO or
 * device never blocks the host (O_NONBLOCK) and is refused after fstat; more than maxBytes is
 * refused before reading.
 */
export function readMemoryFile(memoryDir: string, path: unknown, maxBytes: number, afterDirectory?: AfterDirectoryOpened): MemoryFile {
  const parts = checkedParts(path);
  const shown = parts.join('/');
  const root = realpathSync(memoryDir);
  let dirFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const [i, part] of parts.slice(0, -1).entries()) {
      const next = openBeneath(dirFd, part, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, shown);
      closeSync(dirFd);
      dirFd = next;
      afterDirectory?.(parts.slice(0, i + 1).join('/'));
    }
    const fd = openBeneath(dirFd, parts.at(-1)!, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, shown);
    try {
      if (!isInside(openedPath(fd), root)) {
        throw new ToolRefusal(`refused: ${shown} is not inside your memory folder`, 'refused', { path: shown, escaped: true });
      }
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new ToolRefusal(`refused: ${shown} is not a regular file`, 'refused', { path: shown, notFile: true });
      if (stat.size > maxBytes) {
        throw new ToolRefusal(`refused: ${shown} has ${formatMb(stat.size)}, more than the ${formatMb(maxBytes)} a file sent to the chat may have; send a smaller file`, 'refused', { path: shown, bytes: stat.size });
      }
      if (stat.size === 0) throw new ToolRefusal(`refused: ${shown} is empty`, 'invalid', { path: shown });
      return { path: shown, name: basename(shown), bytes: readExactly(fd, stat.size, shown) };
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(dirFd);
  }
}

/** Opens one name inside an open directory, never following a link there; a refusal names why. */
function openBeneath(dirFd: number, name: string, flags: number, shown: string): number {
  const beneath = `/proc/self/fd/${dirFd}/${name}`;
  try {
    return openSync(beneath, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a link gives ELOOP, or ENOTDIR with O_DIRECTORY: lstat only words the refusal.
    if (code === 'ELOOP' || (code === 'ENOTDIR' && isLink(beneath))) {
      throw new ToolRefusal(`refused: ${shown} goes through a symbolic link; send files stored in your memory folder itself`, 'refused', { path: shown, symlink: true });
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ToolRefusal(`no file ${shown} in your memory folder`, 'not_found', { path: shown });
    throw new ToolRefusal(`cannot open ${shown} (${code ?? 'error'})`, 'refused', { path: shown });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** The path's parts, or a refusal: a relative path of plain names, no `.`/`..`, no NUL. */
function checkedParts(path: unknown): string[] {
  if (typeof path !== 'string' || path.trim() === '') throw new ToolRefusal('path must be a non-empty string: the file\'s path relative to your memory folder', 'invalid');
  const shown = path.slice(0, 200);
  if (path.includes('\0')) throw new ToolRefusal('refused: the path contains a NUL byte', 'refused', { path: shown });
  if (isAbsolute(path)) {
    throw new ToolRefusal(`refused: ${shown} is an absolute path; give the path relative to your memory folder (e.g. "reports/summary.pdf")`, 'refused', { path: shown, absolute: true });
  }
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ToolRefusal(`refused: ${shown} leaves your memory folder ("..")`, 'refused', { path: shown, escaped: true });
  if (parts.length === 0) throw new ToolRefusal('path names no file', 'invalid', { path: shown });
  return parts;
}

/** Where the descriptor really points (Linux /proc). */
function openedPath(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Reads the size fstat gave; a file that grew meanwhile is refused, so the size cap holds. */
function readExactly(fd: number, size: number, shown: string): Buffer {
  const buf = Buffer.alloc(size + 1);
  let total = 0;
  while (total < buf.length) {
    const n = readSync(fd, buf, total, buf.length - total, null);
    if (n === 0) break;
    total += n;
  }
  if (total !== size) throw new ToolRefusal(`refused: ${shown} changed while it was read; try again`, 'refused', { path: shown });
  return buf.subarray(0, total);
}

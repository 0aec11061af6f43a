import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { ToolRefusal } from './host-tool.js';

/** A file the host read from a group's memory folder on the agent's behalf. */
export interface MemoryFile {
  /** The path as the agent named it, relative to the memory folder. */
  path: string;
  /** The last part of the path. */
  name: string;
  bytes: Buffer;
}

/**
 * Reads one regular file from the memory folder for the host, treating every part of the path as
 * hostile: relative only, no `..`, no symlink at any step (each parent is lstat'ed, the file is
 * opened with O_NOFOLLOW), and the opened descriptor must still be inside the folder (the agent may
 * swap a parent for a link between the checks and the open). A FIFO or device never blocks the
 * host (O_NONBLOCK) and is refused after fstat; more than maxBytes is refused before reading.
 */
export function readMemoryFile(memoryDir: string, path: unknown, maxBytes: number): MemoryFile {
  const parts = checkedParts(path);
  const root = realpathSync(memoryDir);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const stat = lstatOrRefuse(dir, parts.join('/'));
    if (stat.isSymbolicLink()) throw new ToolRefusal(`refused: ${parts.join('/')} goes through a symbolic link; send files stored in your memory folder itself`, 'refused', { path: parts.join('/'), symlink: true });
    if (!stat.isDirectory()) throw new ToolRefusal(`no file ${parts.join('/')} in your memory folder`, 'not_found', { path: parts.join('/') });
  }
  const shown = parts.join('/');
  let fd: number;
  try {
    fd = openSync(join(dir, parts.at(-1)!), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new ToolRefusal(`refused: ${shown} is a symbolic link; send the file itself`, 'refused', { path: shown, symlink: true });
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ToolRefusal(`no file ${shown} in your memory folder`, 'not_found', { path: shown });
    throw new ToolRefusal(`cannot open ${shown} (${code ?? 'error'})`, 'refused', { path: shown });
  }
  try {
    if (!isInside(openedPath(fd, join(dir, parts.at(-1)!)), root)) {
      throw new ToolRefusal(`refused: ${shown} is not inside your memory folder`, 'refused', { path: shown, escaped: true });
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ToolRefusal(`refused: ${shown} is not a regular file`, 'refused', { path: shown, notFile: true });
    if (stat.size > maxBytes) {
      throw new ToolRefusal(`refused: ${shown} has ${mb(stat.size)}, more than the ${mb(maxBytes)} a file sent to the chat may have; send a smaller file`, 'refused', { path: shown, bytes: stat.size });
    }
    if (stat.size === 0) throw new ToolRefusal(`refused: ${shown} is empty`, 'invalid', { path: shown });
    return { path: shown, name: basename(shown), bytes: readExactly(fd, stat.size, shown) };
  } finally {
    closeSync(fd);
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

function lstatOrRefuse(path: string, shown: string): Stats {
  try {
    return lstatSync(path);
  } catch {
    throw new ToolRefusal(`no file ${shown} in your memory folder`, 'not_found', { path: shown });
  }
}

/** Where the descriptor really points (Linux /proc); the path it was opened by elsewhere. */
function openedPath(fd: number, opened: string): string {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return realpathSync(opened);
  }
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

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

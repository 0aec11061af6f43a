import { constants, lstatSync, mkdirSync, openSync, readdirSync, realpathSync, rmSync, writeSync, closeSync, fchmodSync } from 'node:fs';
import { join, sep } from 'node:path';

/** Message folders kept in a group's inbox; older ones are removed when a new one is made. */
export const INBOX_KEEP_MESSAGES = 50;

export class StagingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StagingError';
  }
}

/** A folder that is really a folder (not a link to one) and sits exactly where it should. */
function ensurePlainDir(path: string, parentReal: string, mode: number): string {
  try {
    mkdirSync(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new StagingError(`${path} is not a plain folder`);
  const real = realpathSync(path);
  if (real !== path || !real.startsWith(parentReal + sep)) throw new StagingError(`${path} resolves outside ${parentReal}`);
  return real;
}

/** The message folder's name: the host's own message id, digits only. */
function messageFolder(messageId: number): string {
  if (!Number.isSafeInteger(messageId) || messageId < 0) throw new StagingError(`bad message id ${messageId}`);
  return String(messageId);
}

/**
 * Writes one received file to <inbox>/<message id>/<name>, read-only, for the agent's read-only mount.
 * Every step refuses to follow a link: the folders are checked plain and inside the inbox by their real
 * path, and the file is created with O_EXCL | O_NOFOLLOW, so nothing planted at the path (a link to
 * /etc/passwd, to the memory folder) is written through; a name already taken gets a numbered one.
 * `name` must come from safeFileName. Returns the path relative to the inbox.
 */
export function stageFile(inboxDir: string, messageId: number, name: string, data: Buffer): string {
  if (name === '' || name.includes('/') || name.includes('\0') || name === '.' || name === '..') throw new StagingError(`unsafe file name ${JSON.stringify(name)}`);
  mkdirSync(inboxDir, { recursive: true, mode: 0o755 });
  const inboxSt = lstatSync(inboxDir);
  if (inboxSt.isSymbolicLink() || !inboxSt.isDirectory()) throw new StagingError(`${inboxDir} is not a plain folder`);
  const inboxReal = realpathSync(inboxDir);
  const folder = messageFolder(messageId);
  const dirReal = ensurePlainDir(join(inboxReal, folder), inboxReal, 0o755);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  for (let n = 0; n < 100; n++) {
    const candidate = n === 0 ? name : `${stem}-${n}${ext}`;
    let fd: number;
    try {
      fd = openSync(join(dirReal, candidate), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    try {
      let written = 0;
      while (written < data.length) written += writeSync(fd, data, written, data.length - written);
      fchmodSync(fd, 0o444);
    } finally {
      closeSync(fd);
    }
    return `${folder}/${candidate}`;
  }
  throw new StagingError(`too many files named ${name} in message ${messageId}`);
}

/** The inbox's message folders, oldest first (by number: message ids only grow). */
function messageFolders(inboxDir: string): string[] {
  try {
    return readdirSync(inboxDir).filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

/** A link is removed, never followed. */
function removeFolder(path: string): void {
  if (lstatSync(path).isSymbolicLink()) rmSync(path, { force: true });
  else rmSync(path, { recursive: true, force: true });
}

/** Bytes a message folder holds (its files are written flat by stageFile); nothing is followed. */
function folderBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + lstatSync(join(path, name)).size, 0);
}

/** Removes the oldest message folders beyond `keep`. */
export function pruneInbox(inboxDir: string, keep: number = INBOX_KEEP_MESSAGES): void {
  const names = messageFolders(inboxDir);
  for (const name of names.slice(0, Math.max(0, names.length - keep))) removeFolder(join(inboxDir, name));
}

/**
 * Makes room for `incoming` bytes in an inbox that may hold `maxBytes` (media.inboxMaxMb): the oldest
 * message folders go first, never the folder of `messageId` (the message being staged). The inbox
 * sits outside the group's size-limited disk, so this is what keeps received files from filling the
 * host's. Returns false, removing nothing, when the file alone is larger than the inbox may hold.
 */
export function makeInboxRoom(inboxDir: string, messageId: number, incoming: number, maxBytes: number): boolean {
  if (incoming > maxBytes) return false;
  const folders = messageFolders(inboxDir).map((name) => ({ name, bytes: folderBytes(join(inboxDir, name)) }));
  let total = folders.reduce((sum, f) => sum + f.bytes, 0);
  for (const folder of folders) {
    if (total + incoming <= maxBytes) break;
    if (folder.name === String(messageId)) continue;
    removeFolder(join(inboxDir, folder.name));
    total -= folder.bytes;
  }
  return true;
}

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

/** Removes the oldest message folders beyond `keep` (by number: message ids only grow). Links are removed, never followed. */
export function pruneInbox(inboxDir: string, keep: number = INBOX_KEEP_MESSAGES): void {
  let names: string[];
  try {
    names = readdirSync(inboxDir).filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  if (names.length <= keep) return;
  names.sort((a, b) => Number(a) - Number(b));
  for (const name of names.slice(0, names.length - keep)) {
    const path = join(inboxDir, name);
    if (lstatSync(path).isSymbolicLink()) rmSync(path, { force: true });
    else rmSync(path, { recursive: true, force: true });
  }
}

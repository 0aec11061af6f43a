import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LocalFile } from './local-channel.js';

/** The largest file `/attach` and `enclave send --attach` read; the host's media limits apply after. */
export const MAX_LOCAL_FILE_BYTES = 100 * 1024 * 1024;

/** Reads a file the owner attaches, with an error that says what to do when it cannot be used. */
export async function readLocalFile(path: string): Promise<LocalFile> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a file`);
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`no file at ${path}; check the path`, { cause: err });
    if (code === 'EACCES') throw new Error(`${path} cannot be read (permission denied)`, { cause: err });
    throw err;
  }
  if (size > MAX_LOCAL_FILE_BYTES) throw new Error(`${path} is larger than 100 MB; send a smaller file`);
  return { name: basename(path), data: await readFile(path) };
}

/**
 * `/attach <path> [text]`: the path, quoted when it has spaces ("my file.pdf"), then the message.
 * Undefined when the line is not an /attach line.
 */
export function parseAttachLine(line: string): { path: string; text: string } | undefined {
  const match = /^\/attach(?:\s+|$)(.*)$/s.exec(line.trim());
  if (!match) return undefined;
  const rest = match[1]!.trim();
  const quoted = /^"([^"]+)"\s*(.*)$/s.exec(rest) ?? /^'([^']+)'\s*(.*)$/s.exec(rest);
  if (quoted) return { path: quoted[1]!, text: quoted[2]!.trim() };
  const [path = '', ...words] = rest.split(/\s+/);
  return { path, text: words.join(' ') };
}

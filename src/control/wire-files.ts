import type { LocalFile } from '../../channels/local/local-channel.js';
import { MAX_LOCAL_FILE_BYTES } from '../../channels/local/local-file.js';

/** A file in an `enclave send` request on the control socket: its name and base64 bytes. */
export interface WireFile {
  name: string;
  base64: string;
}

/** Files per `enclave send`. */
export const MAX_SEND_FILES = 10;
/** A request with the largest allowed files, base64 (4/3) plus the JSON around them. */
export const MAX_SEND_BODY_BYTES = Math.ceil((MAX_LOCAL_FILE_BYTES * 4) / 3) * 2 + 1024 * 1024;

export function toWire(file: LocalFile): WireFile {
  return { name: file.name, base64: file.data.toString('base64') };
}

/** The request's files, checked: at most MAX_SEND_FILES, each a name and base64 within the size cap. */
export function fromWire(files: unknown): LocalFile[] {
  if (files === undefined) return [];
  if (!Array.isArray(files)) throw new Error('files must be a list');
  if (files.length > MAX_SEND_FILES) throw new Error(`at most ${MAX_SEND_FILES} files per message`);
  return files.map((f: unknown, i) => {
    const file = f as Partial<WireFile> | null;
    if (typeof file?.name !== 'string' || typeof file.base64 !== 'string') throw new Error(`files[${i}] needs a name and base64 bytes`);
    const data = Buffer.from(file.base64, 'base64');
    if (data.length > MAX_LOCAL_FILE_BYTES) throw new Error(`files[${i}] is larger than 100 MB`);
    return { name: file.name, data };
  });
}

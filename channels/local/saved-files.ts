import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutboundFile } from '../channel.js';

/**
 * Where the local chat puts a file the assistant sends: <dir>/<chat>/<time>-<name>, created new
 * (never over an existing file), readable by the user only. Returns the path.
 */
export function saveLocalFile(dir: string, file: OutboundFile, now: number): string {
  const chatDir = join(dir, encodeURIComponent(file.chatId).slice(0, 100));
  mkdirSync(chatDir, { recursive: true, mode: 0o700 });
  // eslint-disable-next-line no-control-regex
  const name = file.name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').replace(/^\.+/, '_').slice(-100) || 'file';
  for (let n = 0; ; n++) {
    const path = join(chatDir, `${new Date(now).toISOString().replace(/[:.]/g, '-')}${n ? `-${n}` : ''}-${name}`);
    try {
      writeFileSync(path, file.data, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw err;
    }
  }
}

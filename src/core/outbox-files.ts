import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The host-owned folder where files waiting in the outbox live: a copy taken when the agent asked
 * to send, so the agent cannot change or swap what is delivered afterwards. Only the host writes here
 * (0700, fresh random names, exclusive create); a file is removed once its outbox row is done.
 */
export class OutboxFiles {
  constructor(readonly dir: string) {}

  /** Stores a copy of the bytes; returns its path for the outbox row. */
  put(bytes: Buffer): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, randomUUID());
    writeFileSync(path, bytes, { flag: 'wx', mode: 0o600 });
    return path;
  }
}

/** The bytes of a staged file, or undefined when it is gone (removed by hand, a lost disk). */
export function readOutboxFile(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

export function removeOutboxFile(path: string): void {
  rmSync(path, { force: true });
}

import { statfsSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

/** What parts that write to disk report to, so one place decides what a full disk means. */
export interface StorageFaultSink {
  /** Returns true when the error was a full disk (it is then logged, the owner told, turns refused). */
  report(err: unknown, where: string): boolean;
}

export interface StorageHealthOptions {
  /** A folder on the filesystem that holds the database (ENCLAVE_HOME/data). */
  dir: string;
  log: Logger;
  clock: Clock;
  /** Tells the owner directly: the outbox cannot store a message on a full disk. */
  tellOwner: (text: string) => void;
  /** How often the free space is checked while the disk is full. */
  recheckMs?: number;
  /** Free space that counts as "space is back". */
  minFreeBytes?: number;
  freeBytes?: (dir: string) => number;
}

const DISK_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);
export const DEFAULT_MIN_FREE_BYTES = 16 * 1024 * 1024;

export function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e && typeof e.code === 'string' && DISK_FULL_CODES.has(e.code)) return true;
  return e !== null && typeof e?.message === 'string' && /database or disk is full|no space left on device/i.test(e.message);
}

export function freeBytesOf(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export const DISK_FULL_REFUSAL =
  'I cannot take new requests right now: the disk of the computer running Enclave is full. ' +
  'The owner has been told; please try again once space has been freed.';

/**
 * The host's view of its own disk. A full disk is reported here by whatever write met it; from then on
 * new turns are refused, and the free space is re-checked until it is back, when everything resumes
 * by itself. The owner is told at each change, directly on their chats.
 */
export class StorageHealth implements StorageFaultSink {
  private fullSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly recheckMs: number;
  private readonly minFreeBytes: number;
  private readonly freeBytes: (dir: string) => number;

  constructor(private readonly opts: StorageHealthOptions) {
    this.recheckMs = opts.recheckMs ?? 10_000;
    this.minFreeBytes = opts.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    this.freeBytes = opts.freeBytes ?? freeBytesOf;
  }

  get full(): boolean {
    return this.fullSince !== undefined;
  }

  report(err: unknown, where: string): boolean {
    if (!isDiskFull(err)) return false;
    if (this.fullSince !== undefined) return true;
    this.fullSince = this.opts.clock();
    const free = this.free();
    this.opts.log.error(
      { where, dir: this.opts.dir, freeBytes: free, err: (err as Error).message },
      'the disk holding ENCLAVE_HOME is full: new turns are refused until space is freed',
    );
    this.opts.tellOwner(
      `Enclave's disk is full (${formatMb(free)} free where ${this.opts.dir} lives), so I am refusing new requests. ` +
        'Free some space (old logs, unused Docker images with `docker image prune`, groups/.removed in ENCLAVE_HOME); ' +
        'I will resume by myself once there is room again.',
    );
    this.timer = setInterval(() => this.recheck(), this.recheckMs);
    this.timer.unref();
    return true;
  }

  /** For writes nobody awaits: a failure is reported (a full disk) or logged, never thrown. */
  background(where: string): (err: unknown) => void {
    return (err) => {
      if (!this.report(err, where)) this.opts.log.error({ where, err: (err as Error).message }, 'a background write failed');
    };
  }

  /** Runs a background write; see background(). */
  guard(where: string, write: () => void): void {
    try {
      write();
    } catch (err) {
      this.background(where)(err);
    }
  }

  /** Resumes when enough space is free again; true when the disk is (now) fine. */
  recheck(): boolean {
    if (this.fullSince === undefined) return true;
    const free = this.free();
    if (free < this.minFreeBytes) return false;
    const minutes = Math.round((this.opts.clock() - this.fullSince) / 60_000);
    this.fullSince = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.opts.log.info({ dir: this.opts.dir, freeBytes: free, minutes }, 'disk space is back: turns are accepted again');
    this.opts.tellOwner(`Disk space is back (${formatMb(free)} free): I am answering requests again.`);
    return true;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private free(): number {
    try {
      return this.freeBytes(this.opts.dir);
    } catch {
      return 0;
    }
  }
}

export function formatMb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

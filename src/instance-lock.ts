import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * One running Enclave per ENCLAVE_HOME: a second one would remove the first one's containers
 * and take over its sockets. The lock file holds the owner's pid; a dead owner's lock is stale.
 */
export class InstanceLock {
  private constructor(private readonly file: string) {}

  static acquire(file: string): InstanceLock {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return new InstanceLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
        if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
          throw new Error(
            `another Enclave (pid ${owner}) is already running with this ENCLAVE_HOME; stop it first, ` +
              'use `enclave send` to talk to it, or set ENCLAVE_HOME to another folder',
            { cause: err },
          );
        }
        if (owner === process.pid) throw new Error('this process already runs an Enclave with this ENCLAVE_HOME', { cause: err });
        rmSync(file, { force: true });
      }
    }
    throw new Error(`could not take the instance lock ${file}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}

/** The pid of a live Enclave holding the lock, if any (it may still be starting: the lock is taken first). */
export function lockOwner(file: string): number | undefined {
  let owner: number;
  try {
    owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    return undefined;
  }
  return Number.isInteger(owner) && owner > 0 && isAlive(owner) ? owner : undefined;
}

/**
 * What `enclave send` and `enclave status` both say when no control socket answers: an instance
 * that holds the lock is starting (or lost its socket); else none runs.
 */
export function noControlSocketMessage(home: string, lockFile: string): { starting: boolean; message: string } {
  const pid = lockOwner(lockFile);
  if (pid !== undefined && pid !== process.pid) {
    return { starting: true, message: `Enclave (pid ${pid}) is starting for ${home} and does not take messages yet; try again when it prints Ready` };
  }
  return { starting: false, message: `no Enclave is running for ${home} (start it with: npm start)` };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

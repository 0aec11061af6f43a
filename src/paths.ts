import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: where the shipped groups/ templates live. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Enclave package root (no package.json above the code)');
    dir = parent;
  }
  return dir;
}

/**
 * ENCLAVE_HOME holds enclave.yaml, groups/ and data/. Default: ~/.enclave, outside the source
 * tree, so a `git pull` never meets the user's data; a checkout that already holds data (the
 * default before) keeps being used until it is moved (see legacyHomeNotice).
 */
export function enclaveHome(env: NodeJS.ProcessEnv = process.env, userHome: string = homedir()): string {
  if (env.ENCLAVE_HOME) return resolve(env.ENCLAVE_HOME);
  const checkout = packageRoot();
  if (existsSync(homePaths(checkout).dbFile)) return checkout;
  return join(userHome, '.enclave');
}

/** What to tell a user whose data still lives in the source folder, and how to move it. */
export function legacyHomeNotice(home: string, env: NodeJS.ProcessEnv = process.env, userHome: string = homedir()): string | undefined {
  if (env.ENCLAVE_HOME || home !== packageRoot()) return undefined;
  const target = join(userHome, '.enclave');
  return (
    `Your Enclave data is in the source folder ${home} (the old default), so it is used from there. ` +
    `To keep it out of the source tree: stop Enclave, then run: mkdir -p ${target} && mv ${join(home, 'enclave.yaml')} ${join(home, 'data')} ${target}/ ` +
    `&& cp -r ${join(home, 'groups')} ${target}/ (or keep it where it is with ENCLAVE_HOME=${home}).`
  );
}

export interface HomePaths {
  home: string;
  configFile: string;
  groupsDir: string;
  dataDir: string;
  dbFile: string;
  runDir: string;
  logFile: string;
  lockFile: string;
  controlSocket: string;
}

export function homePaths(home: string): HomePaths {
  const dataDir = join(home, 'data');
  const runDir = join(dataDir, 'run');
  return {
    home,
    configFile: join(home, 'enclave.yaml'),
    groupsDir: join(home, 'groups'),
    dataDir,
    dbFile: join(dataDir, 'enclave.db'),
    runDir,
    logFile: join(dataDir, 'enclave.log'),
    lockFile: join(dataDir, 'enclave.lock'),
    controlSocket: join(runDir, 'control.sock'),
  };
}

/** Unix socket paths are limited to 107 bytes on Linux. */
export const MAX_SOCKET_PATH = 107;

export function assertSocketPath(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(
      `socket path is too long (${Buffer.byteLength(path)} > ${MAX_SOCKET_PATH} bytes): ${path}. ` +
        'Set ENCLAVE_HOME to a shorter directory.',
    );
  }
}

/** Short stable id of an ENCLAVE_HOME: labels its containers so instances never touch each other's. */
export function homeId(home: string): string {
  return createHash('sha256').update(home).digest('hex').slice(0, 10);
}

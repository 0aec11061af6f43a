import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
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

/** ENCLAVE_HOME holds enclave.yaml, groups/ and data/. Default: the package root. */
export function enclaveHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.ENCLAVE_HOME ?? packageRoot());
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

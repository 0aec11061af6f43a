import { existsSync } from 'node:fs';
import { AuditLog } from '../audit/audit-log.js';
import { systemClock, type Clock } from '../clock.js';
import { loadConfig, seedHome, type Config } from '../config/load.js';
import { callControl, NoRunningInstance } from '../control/control-client.js';
import { openDatabase, type Db } from '../db/database.js';
import { enclaveHome } from '../paths.js';
import { fail } from './output.js';

/** Where a verb prints: process.stdout, or a test's sink. */
export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface HomeStateOptions {
  /** Default: ENCLAVE_HOME. */
  home?: string;
  /** Default: process.stdout. */
  out?: CliOutput;
  clock?: Clock;
  /**
   * 'read': take the home as it is (no default groups written) and, when it has no database yet,
   * an empty in-memory one (nothing was ever spent). Default 'create': seed the home and open its database.
   */
  mode?: 'create' | 'read';
}

export interface HomeState {
  config: Config;
  db: Db;
  audit: AuditLog;
  clock: Clock;
  out: CliOutput;
  /** One line to the output. */
  print(line?: string): void;
  close(): void;
}

/** The config and database of ENCLAVE_HOME, for CLI verbs that work with or without a running host. Throws on a configuration problem. */
export function openHomeState(opts: HomeStateOptions = {}): HomeState {
  const home = opts.home ?? enclaveHome();
  const mode = opts.mode ?? 'create';
  if (mode === 'create') seedHome(home);
  const config = loadConfig(home);
  const db = openDatabase(mode === 'create' || existsSync(config.paths.dbFile) ? config.paths.dbFile : ':memory:');
  const clock = opts.clock ?? systemClock;
  const out = opts.out ?? process.stdout;
  return { config, db, audit: new AuditLog(db, clock), clock, out, print: (line = '') => out.write(`${line}\n`), close: () => db.close() };
}

/** Runs a verb on the home state; a problem is printed and exits non-zero. */
export async function withHomeState(opts: HomeStateOptions, verb: (state: HomeState) => void | Promise<void>): Promise<void> {
  let state: HomeState | undefined;
  try {
    state = openHomeState(opts);
    await verb(state);
  } catch (err) {
    fail(err);
  } finally {
    state?.close();
  }
}

/** Tells a running host to re-read its groups; false when no host is running (it reads them at start). */
export async function reloadRunningHost(config: Config): Promise<boolean> {
  try {
    const answer = await callControl<{ error?: string }>(config.paths.controlSocket, 'POST', '/reload');
    if (answer.error) throw new Error(`the running Enclave could not re-read its groups and keeps the old ones: ${answer.error}`);
    return true;
  } catch (err) {
    if (err instanceof NoRunningInstance) return false;
    throw err;
  }
}

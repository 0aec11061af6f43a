import { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config/load.js';
import { callControl, NoRunningInstance } from '../control/control-client.js';
import { openDatabase, type Db } from '../db/database.js';
import { enclaveHome } from '../paths.js';
import { checkConfig } from './output.js';

export interface HomeState {
  config: Config;
  db: Db;
  audit: AuditLog;
  close(): void;
}

/** The config and database of ENCLAVE_HOME, for CLI verbs that work with or without a running host. */
export function openHomeState(): HomeState {
  const config = checkConfig(enclaveHome());
  const db = openDatabase(config.paths.dbFile);
  return { config, db, audit: new AuditLog(db), close: () => db.close() };
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

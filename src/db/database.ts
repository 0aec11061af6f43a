import Database from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { watchDiskFaults } from './disk-fault-watch.js';
import { MIGRATIONS } from './migrations.js';
import type { StorageFaultSink } from './storage-health.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** Told of every failed statement (a full disk among them); the error is still thrown. */
  faults?: StorageFaultSink;
}

export function openDatabase(file: string, opts: OpenDatabaseOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  if (opts.faults) watchDiskFaults(db, opts.faults);
  if (file !== ':memory:') chmodSync(file, 0o600);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database schema (v${current}) is newer than this Enclave (v${MIGRATIONS.length}); upgrade Enclave or use another ENCLAVE_HOME`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { AuditLog } from '../audit/audit-log.js';
import { callControl, NoRunningInstance } from '../control/control-client.js';
import { openDatabase } from '../db/database.js';
import { ok, problem, type DoctorCheck } from './check.js';

export const auditCheck: DoctorCheck = {
  id: 'audit',
  title: 'the audit log\'s hash chain is intact',
  run: async (env) => {
    if (!existsSync(env.paths.dbFile)) return [ok('audit', 'no database yet (nothing audited)')];
    const db = openDatabase(env.paths.dbFile);
    try {
      const verdict = new AuditLog(db).verify();
      if (verdict.ok) return [ok('audit', `audit log intact: ${verdict.rows} rows`)];
      return [problem('audit', `the audit log was altered at row ${verdict.rowId}: ${verdict.reason}`, 'someone with access to this machine edited the database: find out who (`npx enclave audit tail`), restore data/enclave.db from a backup if needed')];
    } finally {
      db.close();
    }
  },
};

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const instanceCheck: DoctorCheck = {
  id: 'instance',
  title: 'a running Enclave answers on its control socket',
  run: async (env) => {
    const owner = existsSync(env.paths.lockFile) ? Number.parseInt(readFileSync(env.paths.lockFile, 'utf8'), 10) : NaN;
    if (!Number.isInteger(owner) || !pidAlive(owner)) return [ok('instance', 'Enclave is not running (start it with `npx enclave start`)')];
    try {
      await Promise.race([
        callControl(env.paths.controlSocket, 'GET', '/status'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref()),
      ]);
      return [ok('instance', `Enclave is running (pid ${owner}) and answers`)];
    } catch (err) {
      const why = err instanceof NoRunningInstance ? 'its control socket is missing' : (err as Error).message;
      return [problem('instance', `Enclave (pid ${owner}) holds the lock but does not answer (${why}); it may still be starting, or hang`, 'look at `npx enclave logs`; if it hangs, stop it (kill ' + owner + ') and start it again')];
    }
  },
};

import { AuditLog } from '../audit/audit-log.js';
import type { AuditRow } from '../audit/types.js';
import { openDatabase, type Db } from '../db/database.js';
import { enclaveHome, homePaths } from '../paths.js';
import { fail } from './output.js';

export type AuditAction = 'verify' | 'tail';

export interface AuditCommandOptions {
  /** Rows shown by tail; default 20. */
  n?: number;
  /** tail: one JSON object per line instead of the table. */
  json?: boolean;
}

const DEFAULT_TAIL = 20;
const DETAIL_WIDTH = 100;

/** `enclave audit verify|tail`: checks the hash chain, or shows the newest rows. Needs no enclave.yaml. */
export async function runAudit(action: AuditAction, opts: AuditCommandOptions = {}): Promise<void> {
  const n = opts.n ?? DEFAULT_TAIL;
  if (!Number.isInteger(n) || n < 1) fail(new Error('-n takes a whole number of rows, 1 or more'), 2);
  const dbFile = homePaths(enclaveHome()).dbFile;
  let db: Db;
  try {
    db = openDatabase(dbFile);
  } catch (err) {
    fail(err);
  }
  try {
    const log = new AuditLog(db);
    if (action === 'verify') {
      const verdict = log.verify();
      if (verdict.ok) {
        process.stdout.write(`audit log intact: ${verdict.rows} rows\n`);
      } else {
        process.stdout.write(`audit log TAMPERED at row ${verdict.rowId}: ${verdict.reason}\n`);
        process.exitCode = 1;
      }
    } else {
      const rows = log.tail(n);
      process.stdout.write(opts.json ? rows.map((r) => `${JSON.stringify(r)}\n`).join('') : formatRows(rows));
    }
  } catch (err) {
    db.close();
    fail(err);
  }
  db.close();
}

function formatRows(rows: AuditRow[]): string {
  if (rows.length === 0) return 'The audit log is empty.\n';
  return rows
    .map((r) => {
      const time = `${new Date(r.at).toISOString().slice(0, 19).replace('T', ' ')}Z`;
      return `${String(r.id).padStart(6)}  ${time}  ${r.kind.padEnd(14)}  ${(r.group ?? '-').padEnd(12)}  ${(r.actor ?? '-').padEnd(14)}  ${shortDetail(r.detail)}\n`;
    })
    .join('');
}

function shortDetail(detail: Record<string, unknown>): string {
  const text = Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return text.length > DETAIL_WIDTH ? `${text.slice(0, DETAIL_WIDTH - 3)}...` : text;
}

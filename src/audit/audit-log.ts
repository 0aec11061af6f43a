import { systemClock, type Clock } from '../clock.js';
import type { Statement, Transaction } from 'better-sqlite3';
import type { Db } from '../db/database.js';
import { sanitizeDetail } from './audit-detail.js';
import { auditRowHash, canonicalJson, GENESIS_HASH } from './audit-hash.js';
import type { AuditEntry, AuditKind, AuditRow, AuditSink } from './types.js';

export interface AuditFilter {
  kind?: AuditKind;
  group?: string;
}

export type AuditVerdict = { ok: true; rows: number } | { ok: false; rowId: number; reason: string };

/** Where a verification stopped: the last row found intact, and how many rows up to it. */
export interface ChainCheckpoint {
  id: number;
  hash: string;
  rows: number;
}

export interface ChainStep {
  verdict: AuditVerdict;
  checkpoint: ChainCheckpoint;
  /** No rows are left after the checkpoint (as of this step). */
  done: boolean;
}

export interface AuditLogOptions {
  /** Exact secret values to redact from any detail string that contains them. */
  secrets?: () => readonly string[];
}

interface StoredRow {
  id: number;
  at: number;
  kind: string;
  group_name: string | null;
  actor: string | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

/**
 * The append-only audit table. Each row's hash covers its own fields and the previous row's hash, so editing,
 * deleting or reordering any row is found by verify(). (Cutting rows off the end leaves a valid shorter chain:
 * compare the newest hash with one noted earlier to catch that.)
 */
export class AuditLog implements AuditSink {
  private readonly lastRow: Statement<[], Pick<StoredRow, 'id' | 'hash'>>;
  private readonly insert: Statement<[number, number, string, string | null, string | null, string, string, string]>;
  private readonly appendInTransaction: Transaction<(entry: AuditEntry, detail: string) => AuditRow>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
    private readonly opts: AuditLogOptions = {},
  ) {
    this.lastRow = db.prepare('SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1');
    this.insert = db.prepare('INSERT INTO audit (id, at, kind, group_name, actor, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.appendInTransaction = db.transaction((entry: AuditEntry, detail: string): AuditRow => {
      const group = entry.group ?? null;
      const actor = entry.actor ?? null;
      const last = this.lastRow.get();
      const id = (last?.id ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const at = this.clock();
      const hash = auditRowHash(prevHash, { id, at, kind: entry.kind, group, actor, detail });
      this.insert.run(id, at, entry.kind, group, actor, detail, prevHash, hash);
      return toAuditRow({ id, at, kind: entry.kind, group_name: group, actor, detail, prev_hash: prevHash, hash });
    });
  }

  append(entry: AuditEntry): AuditRow {
    const detail = canonicalJson(sanitizeDetail(entry.detail, this.opts.secrets?.() ?? []));
    // IMMEDIATE: the CLI may append from another process at the same time.
    return this.appendInTransaction.immediate(entry, detail);
  }

  /** Walks the whole chain from the first row; stops at the first row that does not fit. */
  verify(): AuditVerdict {
    let expectedId = 1;
    let prevHash = GENESIS_HASH;
    let rows = 0;
    for (const row of this.db.prepare('SELECT * FROM audit ORDER BY id').iterate() as IterableIterator<StoredRow>) {
      const problem = rowProblem(row, expectedId, prevHash);
      if (problem) return { ok: false, rowId: row.id, reason: problem };
      expectedId = row.id + 1;
      prevHash = row.hash;
      rows++;
    }
    return { ok: true, rows };
  }

  /**
   * Verifies at most maxRows rows after a checkpoint (from the first row without one). The checkpoint's
   * own row must still hold the hash it had: a row changed or cut off since then breaks the chain.
   */
  verifySince(from: ChainCheckpoint | undefined, maxRows: number): ChainStep {
    const start = from ?? { id: 0, hash: GENESIS_HASH, rows: 0 };
    if (from) {
      const anchor = this.db.prepare('SELECT hash FROM audit WHERE id = ?').get(from.id) as { hash: string } | undefined;
      if (anchor?.hash !== from.hash) return { verdict: { ok: false, rowId: from.id, reason: 'this row was changed or deleted after it was verified' }, checkpoint: from, done: true };
    }
    const rows = this.db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?').all(start.id, maxRows) as StoredRow[];
    let checkpoint = start;
    for (const row of rows) {
      const problem = rowProblem(row, checkpoint.id + 1, checkpoint.hash);
      if (problem) return { verdict: { ok: false, rowId: row.id, reason: problem }, checkpoint, done: true };
      checkpoint = { id: row.id, hash: row.hash, rows: checkpoint.rows + 1 };
    }
    return { verdict: { ok: true, rows: checkpoint.rows }, checkpoint, done: rows.length < maxRows };
  }

  /** The newest n rows matching the filter, oldest first. */
  tail(n: number, filter: AuditFilter = {}): AuditRow[] {
    const limit = Math.max(0, Math.floor(n));
    const rows = this.db
      .prepare(
        `SELECT * FROM audit WHERE (@kind IS NULL OR kind = @kind) AND (@group IS NULL OR group_name = @group)
         ORDER BY id DESC LIMIT @limit`,
      )
      .all({ kind: filter.kind ?? null, group: filter.group ?? null, limit }) as StoredRow[];
    return rows.reverse().map(toAuditRow);
  }
}

function rowProblem(row: StoredRow, expectedId: number, prevHash: string): string | undefined {
  if (row.id !== expectedId) {
    const missing = row.id - 1 === expectedId ? `row ${expectedId} is` : `rows ${expectedId} to ${row.id - 1} are`;
    return `${missing} missing before it (deleted)`;
  }
  if (row.prev_hash !== prevHash) {
    const before = expectedId === 1 ? 'the start of the log' : `row ${expectedId - 1}`;
    return `its previous-row hash does not match ${before}: a row was changed, deleted, inserted or reordered there`;
  }
  const fields = { id: row.id, at: row.at, kind: row.kind, group: row.group_name, actor: row.actor, detail: row.detail };
  if (auditRowHash(row.prev_hash, fields) !== row.hash) return 'its contents were changed after it was written (the hash does not match)';
  return undefined;
}

function toAuditRow(row: StoredRow): AuditRow {
  const out: AuditRow = { id: row.id, at: row.at, kind: row.kind as AuditKind, detail: parseDetail(row.detail), prevHash: row.prev_hash, hash: row.hash };
  if (row.group_name !== null) out.group = row.group_name;
  if (row.actor !== null) out.actor = row.actor;
  return out;
}

function parseDetail(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Only a tampered row can hold text that is not a JSON object; show it as it is.
  }
  return { unparsable: text };
}

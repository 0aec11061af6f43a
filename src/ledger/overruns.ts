import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/database.js';

function keyOf(group: string, provider: string, model: string): string {
  return JSON.stringify([group, provider, model]);
}

/**
 * Settled calls that used more tokens than they reserved, per (group, provider, model): the
 * largest output any of them had. Read from the ledger once per key, then kept up to date as
 * calls settle, so it survives a restart without a scan per call.
 */
export class OverrunRecord {
  private readonly known = new Map<string, number | undefined>();
  private readonly largest: Statement<[string, string, string], { largest: number | null }>;

  constructor(db: Db) {
    this.largest = db.prepare(
      `SELECT MAX(s.output_tokens) AS largest FROM ledger s
       JOIN ledger r ON r.reservation_id = s.reservation_id AND r.kind = 'reserve'
       WHERE s.kind = 'settle' AND s.group_name = ? AND s.provider = ? AND s.model = ?
         AND s.output_tokens IS NOT NULL AND s.tokens > r.tokens`,
    );
  }

  largestOutput(group: string, provider: string, model: string): number | undefined {
    const key = keyOf(group, provider, model);
    if (!this.known.has(key)) this.known.set(key, this.largest.get(group, provider, model)?.largest ?? undefined);
    return this.known.get(key);
  }

  /** A settlement was written that charged more tokens than reserved. */
  noteOverrun(group: string, provider: string, model: string, outputTokens: number): void {
    const before = this.largestOutput(group, provider, model);
    this.known.set(keyOf(group, provider, model), Math.max(before ?? 0, outputTokens));
  }
}

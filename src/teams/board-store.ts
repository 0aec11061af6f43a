import type { BoardEntryView } from '../../container/agent/team-tool-contract.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';

/** The most keys one team's board holds; a write beyond it is refused. */
export const MAX_BOARD_KEYS = 500;

interface BoardRow {
  key: string;
  value: string;
  version: number;
  updated_by: string;
  updated_at: number;
  expires_at: number | null;
}

export type BoardWrite =
  | { ok: true; entry: BoardEntryView }
  | { ok: false; problem: 'conflict'; current: BoardEntryView | undefined }
  | { ok: false; problem: 'full' };

/** An entry not yet expired at the time bound last. */
const LIVE = ' AND (expires_at IS NULL OR expires_at > ?)';

/** Each team's shared board: versioned entries, compare-and-swap writes, optional expiry by the injected clock. */
export class BoardStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** One key, or every key under a prefix ending in /; expired entries are gone. */
  read(team: string, keyOrPrefix: string): BoardEntryView[] {
    // Reads never write (a full disk must not fail them): expired entries are skipped here and swept by writes.
    const now = this.clock();
    const rows = keyOrPrefix.endsWith('/')
      ? this.db.prepare<[string, string, string, number], BoardRow>(`SELECT * FROM team_board WHERE team = ? AND substr(key, 1, length(?)) = ?${LIVE} ORDER BY key LIMIT 100`).all(team, keyOrPrefix, keyOrPrefix, now)
      : this.db.prepare<[string, string, number], BoardRow>(`SELECT * FROM team_board WHERE team = ? AND key = ?${LIVE}`).all(team, keyOrPrefix, now);
    return rows.map(toView);
  }

  /** Every live entry of a team's board, by key (for the owner's views). */
  readAll(team: string): BoardEntryView[] {
    return this.db.prepare<[string, number], BoardRow>(`SELECT * FROM team_board WHERE team = ?${LIVE} ORDER BY key`).all(team, this.clock()).map(toView);
  }

  /**
   * Writes when `expectedVersion` is undefined or equals the stored version (0 = the key must not
   * exist); otherwise refuses with the current entry.
   */
  write(team: string, key: string, value: string, by: string, expectedVersion?: number, ttlSeconds?: number): BoardWrite {
    return this.db.transaction((): BoardWrite => {
      this.sweep(team);
      const now = this.clock();
      const current = this.db.prepare<[string, string], BoardRow>('SELECT * FROM team_board WHERE team = ? AND key = ?').get(team, key);
      if (expectedVersion !== undefined && expectedVersion !== (current?.version ?? 0)) return { ok: false, problem: 'conflict', current: current && toView(current) };
      if (!current && this.count(team) >= MAX_BOARD_KEYS) return { ok: false, problem: 'full' };
      const version = (current?.version ?? 0) + 1;
      const expires = ttlSeconds ? now + ttlSeconds * 1000 : null;
      this.db
        .prepare(
          `INSERT INTO team_board (team, key, value, version, updated_by, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (team, key) DO UPDATE SET value = excluded.value, version = excluded.version, updated_by = excluded.updated_by,
             updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
        )
        .run(team, key, value, version, by, now, expires);
      return { ok: true, entry: toView({ key, value, version, updated_by: by, updated_at: now, expires_at: expires }) };
    })();
  }

  delete(team: string, key: string): boolean {
    this.sweep(team);
    return this.db.prepare('DELETE FROM team_board WHERE team = ? AND key = ?').run(team, key).changes === 1;
  }

  private count(team: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM team_board WHERE team = ?').get(team)?.n ?? 0;
  }

  private sweep(team: string): void {
    this.db.prepare('DELETE FROM team_board WHERE team = ? AND expires_at IS NOT NULL AND expires_at <= ?').run(team, this.clock());
  }
}

function toView(r: BoardRow): BoardEntryView {
  return {
    key: r.key,
    value: r.value,
    version: r.version,
    updatedBy: r.updated_by,
    updatedAt: new Date(r.updated_at).toISOString(),
    expiresAt: r.expires_at === null ? null : new Date(r.expires_at).toISOString(),
  };
}

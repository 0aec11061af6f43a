import type { ChatTurnMessage } from '../../container/agent/protocol.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from './database.js';

export interface HistoryOptions {
  clock?: Clock;
  /**
   * Removes secret values from a text. Applied before a message is stored and again when it is
   * read back, so a secret is neither kept nor handed to the agent in a later turn (rows written
   * before the scrubber existed included).
   */
  scrub?: (text: string) => string;
}

/** Per-group conversation history, grouped in sessions; /reset starts a new session. */
export class History {
  private readonly clock: Clock;
  private readonly scrub: (text: string) => string;

  constructor(
    private readonly db: Db,
    opts: HistoryOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.scrub = opts.scrub ?? ((text) => text);
  }

  sessionId(group: string): number {
    const row = this.db
      .prepare('SELECT id FROM sessions WHERE group_name = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1')
      .get(group) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.db.prepare('INSERT INTO sessions (group_name, started_at) VALUES (?, ?)').run(group, this.clock()).lastInsertRowid);
  }

  recent(group: string, limit: number): ChatTurnMessage[] {
    if (limit === 0) return [];
    const rows = this.db
      .prepare('SELECT role, content FROM history WHERE session_id = ? ORDER BY id DESC LIMIT ?')
      .all(this.sessionId(group), limit) as ChatTurnMessage[];
    return rows.reverse().map((m) => ({ ...m, content: this.scrub(m.content) }));
  }

  append(group: string, messages: readonly ChatTurnMessage[]): void {
    const session = this.sessionId(group);
    const stmt = this.db.prepare('INSERT INTO history (session_id, role, content, created_at) VALUES (?, ?, ?, ?)');
    const now = this.clock();
    for (const m of messages) stmt.run(session, m.role, this.scrub(m.content), now);
  }

  reset(group: string): void {
    this.db.prepare('UPDATE sessions SET ended_at = ? WHERE group_name = ? AND ended_at IS NULL').run(this.clock(), group);
  }

  count(group: string): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM history WHERE session_id = ?').get(this.sessionId(group)) as { n: number };
    return row.n;
  }
}

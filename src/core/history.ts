import type { ChatTurnMessage } from '../../container/agent/protocol.js';
import type { Db } from '../db/database.js';

/** Per-group conversation history, grouped in sessions; /reset starts a new session. */
export class History {
  constructor(private readonly db: Db) {}

  sessionId(group: string): number {
    const row = this.db
      .prepare('SELECT id FROM sessions WHERE group_name = ? AND ended_at IS NULL ORDER BY id DESC LIMIT 1')
      .get(group) as { id: number } | undefined;
    if (row) return row.id;
    return Number(this.db.prepare('INSERT INTO sessions (group_name, started_at) VALUES (?, ?)').run(group, Date.now()).lastInsertRowid);
  }

  recent(group: string, limit: number): ChatTurnMessage[] {
    if (limit === 0) return [];
    const rows = this.db
      .prepare('SELECT role, content FROM history WHERE session_id = ? ORDER BY id DESC LIMIT ?')
      .all(this.sessionId(group), limit) as ChatTurnMessage[];
    return rows.reverse();
  }

  append(group: string, messages: readonly ChatTurnMessage[]): void {
    const session = this.sessionId(group);
    const stmt = this.db.prepare('INSERT INTO history (session_id, role, content, created_at) VALUES (?, ?, ?, ?)');
    const now = Date.now();
    for (const m of messages) stmt.run(session, m.role, m.content, now);
  }

  reset(group: string): void {
    this.db.prepare('UPDATE sessions SET ended_at = ? WHERE group_name = ? AND ended_at IS NULL').run(Date.now(), group);
  }

  count(group: string): number {
    const row = this.db.prepare('SELECT COUNT(*) AS n FROM history WHERE session_id = ?').get(this.sessionId(group)) as { n: number };
    return row.n;
  }
}

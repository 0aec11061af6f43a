import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';

export interface ContainerStateRow {
  group: string;
  state: 'running' | 'stopped' | 'crashed';
  containerId?: string;
  image?: string;
  restarts: number;
  error?: string;
}

/**
 * Each group's container state in SQLite, so `/status` and later `enclave status` survive restarts.
 * Saved from container events (a crash, an idle stop) that nobody awaits: a failed write (a full
 * disk) goes to onWriteError and never up into the event that caused it.
 */
export class ContainerStateStore {
  constructor(
    private readonly db: Db,
    private readonly onWriteError: (err: unknown) => void = (err) => {
      throw err;
    },
    private readonly clock: Clock = systemClock,
  ) {}

  save(s: ContainerStateRow): void {
    const now = this.clock();
    try {
      this.db
        .prepare(
          `INSERT INTO containers (group_name, container_id, image, state, started_at, last_used_at, restarts, last_error)
           VALUES (@group, @id, @image, @state, @now, @now, @restarts, @error)
           ON CONFLICT (group_name) DO UPDATE SET
             container_id = excluded.container_id, image = COALESCE(excluded.image, image), state = excluded.state,
             started_at = CASE WHEN excluded.state = 'running' AND containers.state != 'running' THEN excluded.started_at ELSE started_at END,
             last_used_at = excluded.last_used_at, restarts = excluded.restarts,
             last_error = COALESCE(excluded.last_error, last_error)`,
        )
        .run({ group: s.group, id: s.containerId ?? null, image: s.image ?? null, state: s.state, now, restarts: s.restarts, error: s.error ?? null });
    } catch (err) {
      this.onWriteError(err);
    }
  }

  get(group: string): ContainerStateRow | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE group_name = ?').get(group) as
      | { group_name: string; container_id: string | null; image: string | null; state: ContainerStateRow['state']; restarts: number; last_error: string | null }
      | undefined;
    if (!row) return undefined;
    return { group: row.group_name, state: row.state, containerId: row.container_id ?? undefined, image: row.image ?? undefined, restarts: row.restarts, error: row.last_error ?? undefined };
  }

  /** At start nothing runs yet, whatever the last run recorded. */
  markAllStopped(): void {
    this.db.prepare(`UPDATE containers SET state = 'stopped', container_id = NULL WHERE state = 'running'`).run();
  }
}

import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Db } from '../db/database.js';

export const REFUSAL_NOTICE_INTERVAL_MS = 60 * 60 * 1000;

/** At most one refusal message per key (a person in a chat) per hour, across restarts. */
export class RefusalNotices {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  /** True (and remembered) when a notice for key may be sent now. */
  take(key: string): boolean {
    const now = this.clock();
    const info = this.db
      .prepare('INSERT INTO refusal_notices (key, sent_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET sent_at = excluded.sent_at WHERE refusal_notices.sent_at <= ?')
      .run(key, now, now - REFUSAL_NOTICE_INTERVAL_MS);
    return info.changes > 0;
  }
}

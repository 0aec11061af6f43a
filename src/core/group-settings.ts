import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { GroupConfig } from '../config/groups.js';

/** Settings the owner changes from the chat (e.g. /model), kept in SQLite over group.yaml. */
export class GroupSettings {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  get(group: string, key: string): string | undefined {
    return this.db.prepare<[string, string], { value: string }>('SELECT value FROM group_settings WHERE group_name = ? AND key = ?').get(group, key)?.value;
  }

  set(group: string, key: string, value: string): void {
    this.db
      .prepare('INSERT INTO group_settings (group_name, key, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (group_name, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(group, key, value, this.clock());
  }

  /** The model chosen with /model if it is still one of the group's allowed models, else group.yaml's. */
  model(group: GroupConfig): string {
    const chosen = this.get(group.name, 'model');
    return chosen && group.allowedModels.includes(chosen) ? chosen : group.model;
  }
}

import type { Config } from './load.js';
import { withReloadedGroups } from './load.js';

/** The running host's configuration: parts read the current snapshot; a reload swaps it whole. */
export class LiveConfig {
  constructor(private snapshot: Config) {}

  readonly get = (): Config => this.snapshot;

  /** Reads every group.yaml again; a broken file throws and the running snapshot stays. */
  reloadGroups(): { before: Config; after: Config } {
    const before = this.snapshot;
    this.snapshot = withReloadedGroups(before);
    return { before, after: this.snapshot };
  }
}

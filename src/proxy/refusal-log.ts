import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { WindowedState } from '../time/windowed-state.js';

/** Paths, URLs and names are the agent's to choose: at most this much of one reaches a log line or an audit row. */
export const MAX_LOGGED_CHARS = 200;
/** Refusals of one group logged one by one per minute; the rest are counted in one line. */
export const REFUSAL_LOG_LINES_PER_MINUTE = 20;

export function capLogged(text: string | undefined): string {
  const value = text ?? '';
  return value.length <= MAX_LOGGED_CHARS ? value : `${value.slice(0, MAX_LOGGED_CHARS)}...`;
}

interface Counts {
  logged: number;
  suppressed: number;
}

/**
 * Warn lines about what an agent asked for and was refused, throttled per group: a looping agent
 * can be refused thousands of times a second, and each line would otherwise reach the log.
 */
export class RefusalLog {
  private readonly windows: WindowedState<Counts>;

  constructor(
    private readonly log: Logger,
    clock: Clock,
    private readonly perMinute = REFUSAL_LOG_LINES_PER_MINUTE,
  ) {
    this.windows = new WindowedState(clock, () => ({ logged: 0, suppressed: 0 }), (group, counts) => this.summarise(group, counts));
  }

  warn(group: string, fields: Record<string, unknown>, message: string): void {
    const counts = this.windows.current(group);
    if (counts.logged < this.perMinute) {
      counts.logged += 1;
      this.log.warn({ group, ...fields }, message);
      return;
    }
    counts.suppressed += 1;
    this.windows.closeAtEnd(group);
  }

  private summarise(group: string, counts: Counts): void {
    if (counts.suppressed === 0) return;
    this.log.warn(
      { group, suppressed: counts.suppressed, perMinute: this.perMinute },
      `${counts.suppressed} more model requests refused in the last minute (only the first ${this.perMinute} are logged one by one)`,
    );
  }
}

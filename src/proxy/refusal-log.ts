import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

/** Paths, URLs and names are the agent's to choose: at most this much of one reaches a log line or an audit row. */
export const MAX_LOGGED_CHARS = 200;
/** Refusals of one group logged one by one per minute; the rest are counted in one line. */
export const REFUSAL_LOG_LINES_PER_MINUTE = 20;
const WINDOW_MS = 60_000;

export function capLogged(text: string | undefined): string {
  const value = text ?? '';
  return value.length <= MAX_LOGGED_CHARS ? value : `${value.slice(0, MAX_LOGGED_CHARS)}...`;
}

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * Warn lines about what an agent asked for and was refused, throttled per group: a looping agent
 * can be refused thousands of times a second, and each line would otherwise reach the log.
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly perMinute = REFUSAL_LOG_LINES_PER_MINUTE,
  ) {}

  warn(group: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock();
    let window = this.windows.get(group);
    if (window && now - window.start >= WINDOW_MS) {
      this.close(group, window);
      window = undefined;
    }
    if (!window) {
      window = { start: now, logged: 0, suppressed: 0 };
      this.windows.set(group, window);
    }
    if (window.logged < this.perMinute) {
      window.logged += 1;
      this.log.warn({ group, ...fields }, message);
      return;
    }
    window.suppressed += 1;
    if (!window.timer) {
      const open = window;
      open.timer = setTimeout(() => this.close(group, open), Math.max(0, WINDOW_MS - (now - open.start)));
      open.timer.unref();
    }
  }

  private close(group: string, window: Window): void {
    clearTimeout(window.timer);
    if (this.windows.get(group) === window) this.windows.delete(group);
    if (window.suppressed === 0) return;
    this.log.warn(
      { group, suppressed: window.suppressed, perMinute: this.perMinute },
      `${window.suppressed} more model requests refused in the last minute (only the first ${this.perMinute} are logged one by one)`,
    );
  }
}

import type { Clock } from '../clock.js';

interface Window<S> {
  start: number;
  state: S;
  timer?: NodeJS.Timeout;
}

/**
 * Per-key state that lives for one fixed window (a minute, by default) and is handed to onClose
 * when the window ends, so a summary of what was held back is written even if no call comes after.
 */
export class WindowedState<S> {
  private readonly windows = new Map<string, Window<S>>();

  constructor(
    private readonly clock: Clock,
    private readonly fresh: () => S,
    private readonly onClose: (key: string, state: S, windowStart: number) => void,
    readonly windowMs = 60_000,
  ) {}

  /** The key's state in the current window (a new one when the last has ended). */
  current(key: string): S {
    const now = this.clock();
    const open = this.windows.get(key);
    if (open && now - open.start < this.windowMs) return open.state;
    if (open) this.close(key, open);
    const window: Window<S> = { start: now, state: this.fresh() };
    this.windows.set(key, window);
    return window.state;
  }

  /** Makes sure the window's onClose runs at its end even if the key is never used again. */
  closeAtEnd(key: string): void {
    const window = this.windows.get(key);
    if (!window || window.timer) return;
    window.timer = setTimeout(() => this.close(key, window), Math.max(0, this.windowMs - (this.clock() - window.start)));
    window.timer.unref();
  }

  /** Closes every open window now (at shutdown). */
  flush(): void {
    for (const [key, window] of [...this.windows]) this.close(key, window);
  }

  private close(key: string, window: Window<S>): void {
    clearTimeout(window.timer);
    if (this.windows.get(key) === window) this.windows.delete(key);
    this.onClose(key, window.state, window.start);
  }
}

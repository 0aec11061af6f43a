import type { LiveTimers } from '../../channels/channel.js';

/** Timers that fire only when the test says so; each records the delay it was set for. */
export class ManualTimers implements LiveTimers {
  private readonly pending = new Map<number, { run: () => void; ms: number }>();
  readonly delays: number[] = [];
  private next = 0;

  setTimeout(run: () => void, ms: number): unknown {
    const id = ++this.next;
    this.pending.set(id, { run, ms });
    this.delays.push(ms);
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get waiting(): number {
    return this.pending.size;
  }

  /** Fires every timer set so far (not those they set in turn). */
  fireAll(): void {
    const due = [...this.pending.entries()];
    for (const [id, timer] of due) {
      this.pending.delete(id);
      timer.run();
    }
  }
}

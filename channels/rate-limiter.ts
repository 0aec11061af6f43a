import { systemClock, type Clock } from '../src/clock.js';
import { sleep } from '../src/time/sleep.js';

/** Waits ms milliseconds; tests pass one that moves their clock instead. */
export type Wait = (ms: number) => Promise<void>;

/** How a limiter reads and passes time: the system's by default. */
export interface PacingTime {
  clock?: Clock;
  wait?: Wait;
}

/**
 * Outbound pacing per chat: at most `burst` messages at once, then one every `intervalMs`.
 * A token bucket per chat, so one busy chat does not slow the others down.
 */
export class ChatRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: Clock;
  private readonly wait: Wait;

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
    time: PacingTime = {},
  ) {
    this.now = time.clock ?? systemClock;
    this.wait = time.wait ?? ((ms) => sleep(ms));
  }

  /** Resolves when a message to chatId may be sent, and takes its slot. */
  async take(chatId: string): Promise<void> {
    for (;;) {
      const wait = this.tryTake(chatId);
      if (wait === 0) return;
      await this.wait(wait);
    }
  }

  /** 0 when a slot was taken, otherwise how long to wait for the next one. */
  tryTake(chatId: string): number {
    const now = this.now();
    const b = this.buckets.get(chatId) ?? { tokens: this.burst, at: now };
    const refill = Math.floor((now - b.at) / this.intervalMs);
    if (refill > 0) {
      b.tokens = Math.min(this.burst, b.tokens + refill);
      b.at = b.tokens === this.burst ? now : b.at + refill * this.intervalMs;
    }
    this.buckets.set(chatId, b);
    if (b.tokens > 0) {
      b.tokens--;
      return 0;
    }
    return Math.max(1, b.at + this.intervalMs - now);
  }
}

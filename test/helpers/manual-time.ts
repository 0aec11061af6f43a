import type { Clock } from '../../src/clock.js';

/**
 * Time that moves only when waited on: `wait(ms)` records the wait and moves the clock by it at
 * once, so a test asserts how long something waited without spending that time.
 */
export class ManualTime {
  readonly waits: number[] = [];
  private now: number;

  constructor(start = Date.UTC(2026, 0, 15, 12)) {
    this.now = start;
  }

  readonly clock: Clock = () => this.now;

  readonly wait = async (ms: number): Promise<void> => {
    this.waits.push(ms);
    this.now += ms;
  };

  advance(ms: number): void {
    this.now += ms;
  }
}

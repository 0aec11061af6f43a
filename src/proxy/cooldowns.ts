import type { Clock } from '../clock.js';

/** Provider+model pairs that failed recently and are skipped until their cooldown ends. */
export class Cooldowns {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly durationMs: number,
    private readonly clock: Clock,
  ) {}

  start(provider: string, model: string): void {
    if (this.durationMs > 0) this.until.set(cooldownKey(provider, model), this.clock() + this.durationMs);
  }

  /** Milliseconds until the pair may be tried again; 0 when it is not cooling down. */
  remainingMs(provider: string, model: string): number {
    const key = cooldownKey(provider, model);
    const until = this.until.get(key);
    if (until === undefined) return 0;
    const left = until - this.clock();
    if (left > 0) return left;
    this.until.delete(key);
    return 0;
  }
}

function cooldownKey(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

import type { ChainCheckpoint, ChainStep } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { ChainState } from './operations.js';

/** How often a view may look for rows newer than the last verification. */
export const CHAIN_RECHECK_MS = 60_000;
/** Rows verified per step: a step blocks the host's event loop for well under 100 ms. */
export const CHAIN_STEP_ROWS = 2_000;

export interface ChainSource {
  verifySince(from: ChainCheckpoint | undefined, maxRows: number): ChainStep;
}

/**
 * The audit chain's state for the dashboard, verified incrementally: the first view walks the whole log
 * in small steps between other work (the page says "verifying" meanwhile), later views only the rows
 * written since. A full re-verification is `enclave audit verify`.
 */
export class ChainWatch {
  private checkpoint: ChainCheckpoint | undefined;
  private result: Exclude<ChainState, { verifying: true }> | undefined;
  private running = false;

  constructor(
    private readonly source: ChainSource,
    private readonly clock: Clock,
    private readonly schedule: (step: () => void) => void = (step) => void setImmediate(step),
  ) {}

  state(): ChainState {
    const stale = !this.result || (this.result.ok && this.clock() - this.result.checkedAt >= CHAIN_RECHECK_MS);
    if (stale && !this.running) {
      this.running = true;
      this.schedule(() => this.step());
    }
    return this.result ?? { verifying: true, rows: this.checkpoint?.rows ?? 0 };
  }

  private step(): void {
    const { verdict, checkpoint, done } = this.source.verifySince(this.checkpoint, CHAIN_STEP_ROWS);
    this.checkpoint = checkpoint;
    if (!verdict.ok || done) {
      this.result = { ...verdict, checkedAt: this.clock() };
      this.running = false;
      return;
    }
    this.schedule(() => this.step());
  }
}

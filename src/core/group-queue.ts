/**
 * Runs at most one turn per group at a time and at most `maxConcurrent` turns overall.
 * Groups wait in arrival order, so a busy group cannot starve the others: after its turn it
 * goes to the back of the line if it has more work.
 */
export class GroupQueue {
  private readonly waiting: string[] = [];
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  /** Running groups whose turn waits for other groups' agents: their slot is lent out meanwhile (waits counted per turn). */
  private readonly lent = new Map<string, { turn: number; waits: number }>();
  /** Each group's running turn, numbered: a wait that outlives its turn cannot touch the next turn's lends. */
  private readonly turnNo = new Map<string, number>();
  private turns = 0;
  /** Helper containers (spawn_helper) running, and those waiting for a slot: they count against `maxConcurrent` like turns. */
  private helpers = 0;
  private readonly helperWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly maxConcurrent: number,
    /** Runs the group's next turn; true when it has more work waiting (it then goes to the back of the line). */
    private readonly runTurn: (group: string) => Promise<boolean | void>,
    private readonly onError: (group: string, err: unknown) => void,
  ) {}

  /** Ask for a turn for this group; if one is running, another follows it. */
  enqueue(group: string): void {
    if (this.stopped) return;
    if (this.running.has(group)) this.again.add(group);
    else if (!this.waiting.includes(group)) this.waiting.push(group);
    this.pump();
  }

  isRunning(group: string): boolean {
    return this.running.has(group);
  }

  /**
   * While `waiting` runs, the group's turn does not count against `maxConcurrent` (its group stays
   * busy), so the agent it waits for can run even when every slot is taken: a wait never deadlocks.
   * When it ends the turn goes on at once, over the limit for a moment if need be.
   */
  async lendSlotWhile<T>(group: string, waiting: Promise<T>): Promise<T> {
    const turn = this.turnNo.get(group);
    if (turn === undefined) return waiting;
    const lend = this.lent.get(group);
    if (lend?.turn === turn) lend.waits += 1;
    else {
      this.lent.set(group, { turn, waits: 1 });
      this.pump();
    }
    try {
      return await waiting;
    } finally {
      const now = this.lent.get(group);
      if (now?.turn === turn && --now.waits === 0) this.lent.delete(group);
    }
  }

  /**
   * A container slot for a helper, counted against `maxConcurrent` with the turns; it waits until one
   * is free and goes before groups waiting for a turn (a running turn waits on it). Its spawner lends
   * its own slot meanwhile (lendSlotWhile), so a helper never waits on its spawner. The returned
   * function gives the slot back; an abort while waiting rejects with the signal's reason.
   */
  acquireHelperSlot(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        let held = true;
        resolve(() => {
          if (!held) return;
          held = false;
          this.helpers -= 1;
          this.pump();
        });
      };
      const onAbort = () => {
        const at = this.helperWaiters.indexOf(grant);
        if (at >= 0) this.helperWaiters.splice(at, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.helperWaiters.push(grant);
      this.pump();
    });
  }

  /** Helper containers holding a slot now. */
  get helperCount(): number {
    return this.helpers;
  }

  get activeCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Stop starting turns; resolves when the running ones are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waiting.length = 0;
    this.again.clear();
    await this.idle();
  }

  idle(): Promise<void> {
    if (this.running.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    const free = () => this.maxConcurrent - (this.running.size - this.lent.size + this.helpers);
    while (!this.stopped && free() > 0 && this.helperWaiters.length > 0) {
      this.helpers += 1;
      this.helperWaiters.shift()!();
    }
    while (!this.stopped && free() > 0 && this.waiting.length > 0) {
      const group = this.waiting.shift()!;
      this.running.add(group);
      this.turnNo.set(group, ++this.turns);
      void this.runOne(group);
    }
    if (this.running.size === 0 && this.waiting.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async runOne(group: string): Promise<void> {
    try {
      if ((await this.runTurn(group)) === true) this.again.add(group);
    } catch (err) {
      this.onError(group, err);
    } finally {
      // A wait that outlives its turn lends nothing more: the slot is free with the turn.
      this.running.delete(group);
      this.turnNo.delete(group);
      this.lent.delete(group);
      if (this.again.delete(group) && !this.stopped) this.waiting.push(group);
      this.pump();
    }
  }
}

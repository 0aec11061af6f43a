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
    while (!this.stopped && this.running.size - this.lent.size < this.maxConcurrent && this.waiting.length > 0) {
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

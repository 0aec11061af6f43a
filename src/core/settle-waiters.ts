import type { InboundOutcome } from '../../channels/channel.js';

/** Lets a caller wait until a stored message's turn has been answered (or has failed). */
export class SettleWaiters {
  private readonly waiters = new Map<number, ((outcome: InboundOutcome) => void)[]>();

  wait(messageId: number): Promise<InboundOutcome> {
    return new Promise((resolve) => {
      const list = this.waiters.get(messageId) ?? [];
      list.push(resolve);
      this.waiters.set(messageId, list);
    });
  }

  settle(messageIds: readonly number[], outcome: InboundOutcome): void {
    for (const id of messageIds) {
      for (const resolve of this.waiters.get(id) ?? []) resolve(outcome);
      this.waiters.delete(id);
    }
  }

  /** On shutdown nobody is left waiting forever. */
  settleAll(): void {
    this.settle([...this.waiters.keys()], 'failed');
  }
}

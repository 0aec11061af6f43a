import type { LiveEvent, LiveUpdate } from './protocol.js';

/**
 * Sends live events to the host in order, one request at a time: what arrives while one is on
 * its way goes in the next (text pieces joined), so a fast model never queues a request per token.
 * A failed send stops the forwarding for the turn (the final answer still arrives with the result).
 */
export class LiveForwarder {
  private queue: LiveEvent[] = [];
  private sending: Promise<void> | undefined;
  private failed = false;

  constructor(
    private readonly turnId: string,
    private readonly post: (update: LiveUpdate) => Promise<void>,
    private readonly log?: (line: string) => void,
  ) {}

  push(event: LiveEvent): void {
    if (this.failed) return;
    const last = this.queue[this.queue.length - 1];
    if (event.kind === 'text' && last?.kind === 'text') last.text += event.text;
    else this.queue.push(event.kind === 'text' ? { kind: 'text', text: event.text } : event);
    this.sending ??= this.drain();
  }

  /** Resolves once everything pushed so far was sent (or given up). */
  async flush(): Promise<void> {
    await this.sending;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.failed) {
      const events = this.queue;
      this.queue = [];
      try {
        await this.post({ turnId: this.turnId, events });
      } catch (err) {
        this.failed = true;
        this.queue = [];
        this.log?.(`turn ${this.turnId}: live updates stopped: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.sending = undefined;
  }
}

/** Open live streams allowed per session and in all. */
export const STREAMS_PER_SESSION = 4;
export const STREAMS_IN_ALL = 16;

type Listener = (data: string) => void;

/**
 * One poller for every live stream: each tick computes the overview once and hands it, when it
 * changed, to every open stream. It runs only while a stream is open.
 */
export class LiveFeed {
  private readonly listeners = new Set<Listener>();
  private readonly perSession = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;

  constructor(
    private readonly compute: () => string,
    private readonly pollMs: number,
  ) {}

  /** Whether one more stream may open for this session (and then counts it); release it with `leave`. */
  admit(sessionId: string): boolean {
    const mine = this.perSession.get(sessionId) ?? 0;
    const all = [...this.perSession.values()].reduce((a, b) => a + b, 0);
    if (mine >= STREAMS_PER_SESSION || all >= STREAMS_IN_ALL) return false;
    this.perSession.set(sessionId, mine + 1);
    return true;
  }

  leave(sessionId: string): void {
    const mine = (this.perSession.get(sessionId) ?? 1) - 1;
    if (mine > 0) this.perSession.set(sessionId, mine);
    else this.perSession.delete(sessionId);
  }

  /** Sends the current overview at once, then each change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.last ?? (this.last = this.compute()));
    this.timer ??= setInterval(() => this.tick(), this.pollMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0 || !this.timer) return;
      clearInterval(this.timer);
      this.timer = undefined;
      this.last = undefined;
    };
  }

  /** One poll: the overview computed once for all streams. */
  tick(): void {
    if (this.listeners.size === 0) return;
    const now = this.compute();
    if (now === this.last) return;
    this.last = now;
    for (const listener of this.listeners) listener(now);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}

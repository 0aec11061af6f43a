/**
 * Exponential backoff with full jitter: attempt 0 waits up to baseMs, each next attempt up to
 * twice as long, never more than maxMs. Jitter keeps many clients from reconnecting in step.
 */
export function backoffDelay(attempt: number, baseMs = 1000, maxMs = 60_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The work's outcome, or a rejection as soon as the signal stops waiting for it (the work is left to end by itself). */
export function untilStopped<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new Error('stopped'));
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

import { sleep } from '../src/time/sleep.js';

/**
 * Exponential backoff with full jitter: attempt 0 waits up to baseMs, each next attempt up to
 * twice as long, never more than maxMs. Jitter keeps many clients from reconnecting in step.
 */
export function backoffDelay(attempt: number, baseMs = 1000, maxMs = 60_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Runs send() and retries it with backoff while isRetryable(err) says so. A platform's own
 * "retry after N seconds" (retryAfterMs) wins over the computed delay.
 */
export async function withRetries<T>(
  send: () => Promise<T>,
  opts: { attempts?: number; baseMs?: number; maxMs?: number; isRetryable: (err: unknown) => boolean; retryAfterMs?: (err: unknown) => number | undefined },
): Promise<T> {
  const attempts = opts.attempts ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (attempt + 1 >= attempts || !opts.isRetryable(err)) throw err;
      await sleep(opts.retryAfterMs?.(err) ?? backoffDelay(attempt, opts.baseMs ?? 500, opts.maxMs ?? 30_000));
    }
  }
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

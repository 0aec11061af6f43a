import type { TurnRequest, TurnResult } from './protocol.js';
import { errorMessage } from './errors.js';

export const FAILURE_WINDOW_MS = 30_000;
const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 2_000;
/** A long poll the host never answers is abandoned and re-issued after this long. */
const LONG_POLL_MAX_MS = 10 * 60_000;

export class HostUnreachableError extends Error {}

export interface PollLoopDeps {
  nextTurn(signal: AbortSignal): Promise<TurnRequest | null>;
  sendResult(result: TurnResult): Promise<void>;
  handleTurn(request: TurnRequest): Promise<TurnResult>;
  log(line: string): void;
  failureWindowMs?: number;
  /** Aborting it ends the loop after the current step. */
  stop?: AbortSignal;
  /** Milliseconds since the epoch; tests pass their own with a matching sleep. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const realClock = (): number => Date.now();

/** Retries `attempt` with exponential backoff until it succeeds, or throws once it failed for the whole window. */
async function withRetry<T>(what: string, attempt: () => Promise<T>, deps: PollLoopDeps): Promise<T> {
  const windowMs = deps.failureWindowMs ?? FAILURE_WINDOW_MS;
  let firstFailure: number | undefined;
  let delay = BACKOFF_START_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      const now = (deps.clock ?? realClock)();
      firstFailure ??= now;
      if (now - firstFailure >= windowMs) {
        throw new HostUnreachableError(`${what} kept failing for ${Math.round((now - firstFailure) / 1000)} s: ${errorMessage(err)}`);
      }
      if (delay === BACKOFF_START_MS) deps.log(`${what} failed (${errorMessage(err)}); retrying`);
      await (deps.sleep ?? realSleep)(delay);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    }
  }
}

/** Fetches turns from the host forever, runs each, and posts its result. */
export async function pollLoop(deps: PollLoopDeps): Promise<void> {
  while (!deps.stop?.aborted) {
    const request = await withRetry('GET turn', () => deps.nextTurn(AbortSignal.timeout(LONG_POLL_MAX_MS)), deps);
    if (request === null) continue;

    const clock = deps.clock ?? realClock;
    const started = clock();
    deps.log(`turn ${request.turnId}: started`);
    let result: TurnResult;
    try {
      result = await deps.handleTurn(request);
    } catch (err) {
      result = { turnId: String(request.turnId), ok: false, reply: '', error: errorMessage(err), steps: 0 };
    }
    deps.log(`turn ${request.turnId}: ${result.ok ? 'ok' : `failed: ${result.error ?? ''}`} (${result.steps} steps, ${clock() - started} ms)`);
    await withRetry('POST turn result', () => deps.sendResult(result), deps);
  }
}

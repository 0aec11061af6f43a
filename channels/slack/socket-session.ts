import type { SocketModeReceiver } from '@slack/bolt';
import { backoffDelay } from '../backoff.js';
import { sleep } from '../../src/time/sleep.js';
import { describeSlackError, isAuthFailure } from './slack-errors.js';

type SocketModeClient = SocketModeReceiver['client'];

export interface SocketSessionHooks {
  /** The socket is open and Slack said hello. */
  up(): void;
  /** The socket closed or could not open; a retry follows. */
  down(reason: string): void;
  /** Another attempt to open the socket starts (after a backoff). */
  retry(): void;
  /** The app-level token was refused: no retry. */
  fatal(err: unknown): void;
}

/**
 * Keeps one Socket Mode connection open. The client's own reconnect is switched off
 * (autoReconnectEnabled: false) so every reconnect waits with exponential backoff and jitter,
 * and a revoked app token stops this channel instead of retrying forever.
 */
export class SocketSession {
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: SocketModeClient,
    private readonly hooks: SocketSessionHooks,
    private readonly backoff: { baseMs: number; maxMs: number; random?: () => number },
  ) {}

  /** Resolves once connected the first time, after the first failed attempt (retries go on), once failed for good, or once stopped. */
  run(): Promise<void> {
    return new Promise((ready) => void this.loop(ready));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.client.disconnect();
  }

  private async loop(ready: () => void): Promise<void> {
    for (let attempt = 0; !this.stopped; ) {
      try {
        await this.client.start();
        if (this.stopped) {
          await this.client.disconnect();
          break;
        }
        const dropped = new Promise<void>((resolve) => this.client.once('disconnected', () => resolve()));
        this.hooks.up();
        attempt = 0;
        ready();
        await dropped;
        if (this.stopped) break;
        this.hooks.down('the Socket Mode connection closed');
      } catch (err) {
        if (this.stopped) break;
        if (isAuthFailure(err)) {
          this.hooks.fatal(err);
          break;
        }
        this.hooks.down(err === undefined ? 'the Socket Mode connection closed before Slack said hello' : describeSlackError(err));
        ready();
      }
      await sleep(backoffDelay(attempt++, this.backoff.baseMs, this.backoff.maxMs, this.backoff.random), this.abort.signal);
      if (!this.stopped) this.hooks.retry();
    }
    ready();
  }
}

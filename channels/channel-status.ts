import { systemClock, type Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import type { ChannelHealth } from './channel.js';

/** How loudly a change of state is logged; 'none' when the adapter logs it in its own words. */
export type LogLevel = 'warn' | 'error' | 'none';

/**
 * A platform adapter's health as `enclave status` and /status show it: up or down and why,
 * reconnects, the last event seen. Each reason is logged once, not on every retry.
 */
export class ChannelStatus {
  private connected = false;
  private reconnects = 0;
  private lastEventAt: number | undefined;
  private reason: string | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Why the channel is down (or waits for a person), if it is. */
  get error(): string | undefined {
    return this.reason;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Connected; `message` is logged when it was down before. */
  up(message?: string, fields: Record<string, unknown> = {}): void {
    if (message !== undefined && !this.connected) this.log.info({ ...fields, reconnects: this.reconnects }, message);
    this.connected = true;
    this.reason = undefined;
  }

  /** Down for a passing reason; a retry follows. */
  down(reason: string, level: LogLevel = 'warn'): void {
    this.record(reason, level);
  }

  /** Down for a reason only a person can fix: no retry until a restart. */
  failed(reason: string): void {
    this.record(reason, 'error');
  }

  /** Down without a fault: stopped, or the platform dropped the session and the client resumes it. */
  disconnected(): void {
    this.connected = false;
  }

  /** Up or not, the channel waits for a person (e.g. a QR code to be scanned). */
  waitingFor(reason: string): void {
    this.reason = reason;
  }

  /** A new start: earlier reasons no longer apply. */
  starting(): void {
    this.reason = undefined;
  }

  /** Another attempt to connect begins. */
  reconnecting(): void {
    this.reconnects++;
  }

  /** The platform sent something: the connection is alive. */
  event(): void {
    this.lastEventAt = this.clock();
  }

  health(): ChannelHealth {
    return { connected: this.connected, reconnects: this.reconnects, ...(this.lastEventAt !== undefined && { lastEventAt: this.lastEventAt }), ...(this.reason !== undefined && { error: this.reason }) };
  }

  private record(reason: string, level: LogLevel): void {
    const known = !this.connected && this.reason === reason;
    this.connected = false;
    this.reason = reason;
    if (!known && level !== 'none') this.log[level](reason);
  }
}

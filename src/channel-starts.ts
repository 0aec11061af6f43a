import type { Channel, InboundHandler } from '../channels/channel.js';
import type { Logger } from './logger.js';

export type ChannelState = 'connecting' | 'connected' | 'failed';

export interface ChannelStateReport {
  name: string;
  state: ChannelState;
  /** Why it is not connected, when the channel says. */
  reason?: string;
}

/**
 * Connects every channel in the background, each on its own: a platform that hangs or refuses
 * holds up neither the start nor the other channels (the local chat is ready at once). Tells
 * `onSettled` once per channel how its first attempt ended.
 */
export class ChannelStarts {
  private readonly pending = new Set<string>();
  private all: Promise<void> = Promise.resolve();

  constructor(
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly log: Logger,
    private readonly onSettled: (report: ChannelStateReport) => void = () => undefined,
  ) {}

  start(handler: InboundHandler): void {
    const attempts = [...this.channels.values()].map(async (ch) => {
      this.pending.add(ch.name);
      let thrown: string | undefined;
      try {
        await ch.connect(handler);
      } catch (err) {
        thrown = err instanceof Error ? err.message : String(err);
        this.log.error({ channel: ch.name, err: thrown }, 'channel failed to start');
      }
      this.pending.delete(ch.name);
      const report = this.report(ch, thrown);
      this.onSettled(report);
    });
    this.all = Promise.all(attempts).then(() => undefined);
  }

  /** Resolves when every channel's first attempt has ended (connected, failed, or retrying). */
  settled(): Promise<void> {
    return this.all;
  }

  list(): ChannelStateReport[] {
    return [...this.channels.values()].map((ch) => this.report(ch));
  }

  private report(ch: Channel, thrown?: string): ChannelStateReport {
    if (thrown !== undefined) return { name: ch.name, state: 'failed', reason: thrown };
    if (this.pending.has(ch.name)) return { name: ch.name, state: 'connecting' };
    const health = ch.health();
    if (health.connected) return { name: ch.name, state: 'connected' };
    return health.error ? { name: ch.name, state: 'failed', reason: health.error } : { name: ch.name, state: 'connecting' };
  }
}

/** For the Ready line: "local (connected), telegram (connecting)". */
export function channelStatesText(reports: readonly ChannelStateReport[]): string {
  return reports.length === 0 ? 'none' : reports.map((r) => `${r.name} (${r.state})`).join(', ');
}

/** One terminal line for a channel whose first attempt ended; undefined for nothing worth a line. */
export function channelSettledLine(report: ChannelStateReport): string | undefined {
  if (report.state === 'failed') return `Channel ${report.name} failed: ${report.reason ?? 'no reason given'} (the other channels keep running; \`enclave status\` shows it).`;
  if (report.state === 'connected') return `Channel ${report.name} connected.`;
  return undefined;
}

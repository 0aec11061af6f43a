import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { TeamEventStore } from './event-store.js';
import { TeamError } from './team-error.js';
import { eventsInput, HISTORY_EVENT_PAYLOAD_CHARS } from './team-inputs.js';

/** The most events one turn brings; the rest wait for the subscriber's next events turn. */
export const MAX_EVENTS_PER_TURN = 20;

/** setTimeout/clearTimeout, injectable so tests move time themselves. */
export interface EventTimer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realEventTimer: EventTimer = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type EventsTurnOutcome = { ok: true } | { ok: false; error: string } | 'interrupted';

export interface TeamEventsDeps {
  config: () => Config;
  store: TeamEventStore;
  audit: AuditSink;
  clock: Clock;
  log: Logger;
  timer: EventTimer;
  /** Asks the group queue for a turn of this group. */
  wake: (group: string) => void;
  stopping: () => boolean;
  /** One turn of the subscriber with this input, in its own container, paid from its own budget only; `remembered` is what its history keeps. */
  runTurn: (group: GroupConfig, input: string, dedupeKey: string, remembered: string) => Promise<EventsTurnOutcome>;
}

/**
 * Publish/subscribe inside a team: a publish is checked against the caller's `team.publish`, stored
 * for every other member that subscribes to the topic, and brought to each as one batched turn at
 * most every `eventIntervalSeconds` (by the injected clock).
 */
export class TeamEvents {
  private readonly timers = new Map<string, unknown>();
  /** The hop of the events turn each group is running now (a group runs one turn at a time). */
  private readonly turnHops = new Map<string, number>();
  /** Events dropped per subscriber since its last events turn: the first drop is an audit row, the count goes on the next delivery's row. */
  private readonly droppedSinceTurn = new Map<string, number>();

  constructor(private readonly d: TeamEventsDeps) {}

  /** The caller is the socket's group; returns how many members will receive the event. */
  publish(from: GroupConfig, chainId: string | null, topic: string, payload: string): number {
    const team = from.team;
    if (!team) throw new TeamError('your group is in no team', 'refused');
    const allowed = team.acl.publish;
    if (!allowed.includes(topic)) {
      this.audit(from.name, `agent:${from.name}`, { action: 'publish_refused', topic, chain: chainId });
      throw new TeamError(`you may not publish to "${topic}" (team.publish of your group allows: ${allowed.join(', ') || 'nothing'})`, 'refused', { chain: chainId });
    }
    const hop = (this.turnHops.get(from.name) ?? 0) + 1;
    const maxDepth = this.d.config().enclave.teams[team.name]?.maxDepth ?? 1;
    if (hop > maxDepth) {
      this.audit(from.name, `agent:${from.name}`, { action: 'publish_refused', topic, chain: chainId, reason: 'depth', hop });
      throw new TeamError(
        `this turn was started by events that already passed through ${hop - 1} events turns, the team's maxDepth of ${maxDepth}: publish nothing more about them`,
        'refused',
        { chain: chainId },
      );
    }
    const subscribers = [...this.d.config().groups.values()]
      .filter((g) => g.name !== from.name && g.team?.name === team.name && g.team.acl.subscribe.includes(topic))
      .map((g) => g.name);
    const dropped = this.d.store.add({ team: team.name, topic, from: from.name, payload, chainId, hop }, subscribers);
    this.audit(from.name, `agent:${from.name}`, { action: 'publish', topic, chain: chainId, hop, chars: payload.length, subscribers });
    for (const [subscriber, count] of dropped) {
      const before = this.droppedSinceTurn.get(subscriber) ?? 0;
      this.droppedSinceTurn.set(subscriber, before + count);
      if (before === 0) this.audit(subscriber, 'host', { action: 'events_dropped', dropped: count, topic, from: from.name, reason: 'too many events waiting' });
    }
    for (const s of subscribers) this.d.wake(s);
    return subscribers.length;
  }

  /** Events wait and the subscriber's interval has passed; when they wait but it has not, a wake-up is set for then. */
  hasWork(group: string): boolean {
    if (this.d.store.count(group) === 0) return false;
    const last = this.d.store.lastTurnAt(group);
    const wait = last === undefined ? 0 : last + this.intervalMs(group) - this.d.clock();
    if (wait <= 0) return true;
    this.wakeIn(group, wait);
    return false;
  }

  /** One turn with the oldest waiting events (at most MAX_EVENTS_PER_TURN); events of topics the group no longer subscribes to are dropped. */
  async runNext(group: string): Promise<void> {
    const cfg = this.d.config().groups.get(group);
    const batch = this.d.store.pending(group, MAX_EVENTS_PER_TURN);
    const wanted = batch.filter((e) => cfg?.team?.name === e.team && cfg.team.acl.subscribe.includes(e.topic));
    const unwanted = batch.filter((e) => !wanted.includes(e));
    if (unwanted.length) {
      this.d.store.remove(unwanted.map((e) => e.id));
      this.audit(group, 'host', { action: 'events_dropped', dropped: unwanted.length, reason: 'no longer subscribed' });
    }
    if (!cfg || wanted.length === 0) return;
    this.d.store.markTurn(group, this.d.clock());
    const ids = wanted.map((e) => e.id);
    const waiting = this.d.store.count(group) - wanted.length;
    // Keyed by the first event alone: a batch run again after a crash may have grown, and must not answer the chat twice.
    this.turnHops.set(group, Math.max(...wanted.map((e) => e.hop)));
    let outcome: EventsTurnOutcome;
    try {
      outcome = await this.d.runTurn(cfg, eventsInput(wanted, waiting), `team-events:${ids[0]}`, eventsInput(wanted, waiting, HISTORY_EVENT_PAYLOAD_CHARS));
    } finally {
      this.turnHops.delete(group);
    }
    if (outcome === 'interrupted') return;
    // Delivered once either way: a failing turn does not bring the same events round again.
    this.d.store.remove(ids);
    const dropped = this.droppedSinceTurn.get(group) ?? 0;
    this.droppedSinceTurn.delete(group);
    this.audit(group, 'host', { action: 'events_delivered', events: ids.length, waiting, ok: outcome.ok, ...(dropped > 0 && { droppedSinceLastTurn: dropped }) });
    if (!outcome.ok) this.d.log.warn({ group, err: outcome.error }, 'an agent could not take in the events of its team');
  }

  /** Subscribers with events waiting, to wake after a start. */
  waiting(): string[] {
    return this.d.store.subscribersWaiting();
  }

  stop(): void {
    for (const handle of this.timers.values()) this.d.timer.clear(handle);
    this.timers.clear();
  }

  private intervalMs(group: string): number {
    const cfg = this.d.config();
    const team = cfg.groups.get(group)?.team?.name;
    const seconds = team ? cfg.enclave.teams[team]?.eventIntervalSeconds : undefined;
    return (seconds ?? 60) * 1000;
  }

  private wakeIn(group: string, ms: number): void {
    if (this.timers.has(group)) return;
    this.timers.set(
      group,
      this.d.timer.set(() => {
        this.timers.delete(group);
        if (!this.d.stopping()) this.d.wake(group);
      }, ms),
    );
  }

  private audit(group: string, actor: string, detail: Record<string, unknown>): void {
    this.d.audit.append({ kind: 'team', group, actor, detail });
  }
}

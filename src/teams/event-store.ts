import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';

/** The most events one subscriber keeps waiting; a publish beyond it drops that subscriber's oldest. */
export const MAX_PENDING_EVENTS = 200;

export interface TeamEvent {
  id: number;
  team: string;
  subscriber: string;
  topic: string;
  from: string;
  payload: string;
  chainId: string | null;
  /** Events turns that led to this event, plus one. */
  hop: number;
  createdAt: number;
}

interface EventRow {
  id: number;
  team: string;
  subscriber: string;
  topic: string;
  from_group: string;
  payload: string;
  chain_id: string | null;
  hop: number;
  created_at: number;
}

/** Published events waiting for their subscribers (one row each), and each subscriber's last events turn. */
export class TeamEventStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Stores the event for each subscriber; returns, per subscriber, how many of its oldest events were dropped to stay under the cap. */
  add(e: { team: string; topic: string; from: string; payload: string; chainId: string | null; hop: number }, subscribers: readonly string[]): Map<string, number> {
    const dropped = new Map<string, number>();
    this.db.transaction(() => {
      const insert = this.db.prepare('INSERT INTO team_events (team, subscriber, topic, from_group, payload, chain_id, hop, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const trim = this.db.prepare(
        'DELETE FROM team_events WHERE subscriber = ? AND id NOT IN (SELECT id FROM team_events WHERE subscriber = ? ORDER BY id DESC LIMIT ?)',
      );
      for (const s of subscribers) {
        insert.run(e.team, s, e.topic, e.from, e.payload, e.chainId, e.hop, this.clock());
        const gone = trim.run(s, s, MAX_PENDING_EVENTS).changes;
        if (gone) dropped.set(s, gone);
      }
    })();
    return dropped;
  }

  /** The subscriber's oldest waiting events, at most `limit`. */
  pending(subscriber: string, limit: number): TeamEvent[] {
    return this.db.prepare<[string, number], EventRow>('SELECT * FROM team_events WHERE subscriber = ? ORDER BY id LIMIT ?').all(subscriber, limit).map(toEvent);
  }

  count(subscriber: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM team_events WHERE subscriber = ?').get(subscriber)!.n;
  }

  /** Subscribers with events waiting (to wake them after a start). */
  subscribersWaiting(): string[] {
    return this.db.prepare<[], { s: string }>('SELECT DISTINCT subscriber AS s FROM team_events ORDER BY s').all().map((r) => r.s);
  }

  remove(ids: readonly number[]): void {
    const del = this.db.prepare('DELETE FROM team_events WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => del.run(id)))();
  }

  lastTurnAt(subscriber: string): number | undefined {
    return this.db.prepare<[string], { at: number }>('SELECT last_at AS at FROM team_event_turns WHERE subscriber = ?').get(subscriber)?.at;
  }

  markTurn(subscriber: string, at: number): void {
    this.db.prepare('INSERT INTO team_event_turns (subscriber, last_at) VALUES (?, ?) ON CONFLICT (subscriber) DO UPDATE SET last_at = excluded.last_at').run(subscriber, at);
  }
}

function toEvent(r: EventRow): TeamEvent {
  return { id: r.id, team: r.team, subscriber: r.subscriber, topic: r.topic, from: r.from_group, payload: r.payload, chainId: r.chain_id, hop: r.hop, createdAt: r.created_at };
}

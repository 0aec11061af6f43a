import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Db } from '../db/database.js';
import { newPairingCode, normalisePairingCode } from './pairing-code.js';

export const PAIRING_TTL_MS = 60 * 60 * 1000;
export const MAX_PENDING_PER_CHANNEL = 3;

export interface Pairing {
  id: number;
  channel: string;
  senderId: string;
  senderName: string;
  code: string;
  status: 'pending' | 'approved' | 'revoked' | 'expired';
  createdAt: number;
  expiresAt: number;
  decidedAt?: number;
  decidedBy?: string;
}

export type PairingRequest =
  | { kind: 'new' | 'existing'; pairing: Pairing }
  | { kind: 'too_many_pending' };

interface Row {
  id: number;
  channel: string;
  sender_id: string;
  sender_name: string;
  code: string;
  status: Pairing['status'];
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

const toPairing = (r: Row): Pairing => ({
  id: r.id,
  channel: r.channel,
  senderId: r.sender_id,
  senderName: r.sender_name,
  code: r.code,
  status: r.status,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  decidedAt: r.decided_at ?? undefined,
  decidedBy: r.decided_by ?? undefined,
});

/** Pairing codes for strangers who DM the bot, and the senders the owner approved. */
export class PairingStore {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {}

  isApproved(channel: string, senderId: string): boolean {
    return this.db.prepare("SELECT 1 FROM pairings WHERE channel = ? AND sender_id = ? AND status = 'approved'").get(channel, senderId) !== undefined;
  }

  /** The sender's live code, a new one, or a refusal when the channel already has too many waiting. */
  request(channel: string, senderId: string, senderName: string): PairingRequest {
    return this.db.transaction((): PairingRequest => {
      this.expire();
      const existing = this.db
        .prepare<[string, string], Row>("SELECT * FROM pairings WHERE channel = ? AND sender_id = ? AND status = 'pending'")
        .get(channel, senderId);
      if (existing) return { kind: 'existing', pairing: toPairing(existing) };
      const pending = this.db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM pairings WHERE channel = ? AND status = 'pending'").get(channel)!.n;
      if (pending >= MAX_PENDING_PER_CHANNEL) return { kind: 'too_many_pending' };
      const now = this.clock();
      const code = newPairingCode();
      const id = this.db
        .prepare("INSERT INTO pairings (channel, sender_id, sender_name, code, status, created_at, expires_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)")
        .run(channel, senderId, senderName.slice(0, 100), code, now, now + PAIRING_TTL_MS).lastInsertRowid;
      return { kind: 'new', pairing: this.byId(Number(id))! };
    })();
  }

  /** Admits the sender behind a live code; undefined when no such code is waiting. */
  approve(code: string, decidedBy: string): Pairing | undefined {
    return this.db.transaction(() => {
      this.expire();
      const row = this.db.prepare<[string], Row>("SELECT * FROM pairings WHERE code = ? AND status = 'pending'").get(normalisePairingCode(code));
      if (!row) return undefined;
      this.db.prepare("UPDATE pairings SET status = 'approved', decided_at = ?, decided_by = ? WHERE id = ?").run(this.clock(), decidedBy, row.id);
      return this.byId(row.id);
    })();
  }

  /** Takes back an approval (or a waiting code); true when there was one. */
  revoke(channel: string, senderId: string, decidedBy: string): boolean {
    const info = this.db
      .prepare("UPDATE pairings SET status = 'revoked', decided_at = ?, decided_by = ? WHERE channel = ? AND sender_id = ? AND status IN ('pending', 'approved')")
      .run(this.clock(), decidedBy, channel, senderId);
    return info.changes > 0;
  }

  list(): Pairing[] {
    this.expire();
    return this.db
      .prepare<[], Row>("SELECT * FROM pairings WHERE status IN ('pending', 'approved') ORDER BY status, created_at")
      .all()
      .map(toPairing);
  }

  private byId(id: number): Pairing | undefined {
    const row = this.db.prepare<[number], Row>('SELECT * FROM pairings WHERE id = ?').get(id);
    return row ? toPairing(row) : undefined;
  }

  private expire(): void {
    this.db.prepare("UPDATE pairings SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?").run(this.clock());
  }
}

import type { Pairing, PairingStore } from '../access/pairing-store.js';
import type { AuditSink } from '../audit/types.js';

/** Who may DM the bot: approving a pairing code and revoking an approval, for the CLI, the chat's /approve and the dashboard. */
export class PairingService {
  constructor(private readonly deps: { store: PairingStore; audit: AuditSink }) {}

  /** The approved pairing, or undefined when no pending pairing has that code. */
  approve(code: string, actor: string): Pairing | undefined {
    const pairing = this.deps.store.approve(code, actor);
    if (pairing) this.deps.audit.append({ kind: 'access_change', actor, detail: { action: 'approve', who: `${pairing.channel}:${pairing.senderId}` } });
    return pairing;
  }

  /** False when the sender was neither approved nor waiting. */
  revoke(channel: string, senderId: string, actor: string): boolean {
    const done = this.deps.store.revoke(channel, senderId, actor);
    if (done) this.deps.audit.append({ kind: 'access_change', actor, detail: { action: 'revoke', who: `${channel}:${senderId}` } });
    return done;
  }

  list(): Pairing[] {
    return this.deps.store.list();
  }
}

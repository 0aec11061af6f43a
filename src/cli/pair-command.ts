import { PairingStore } from '../access/pairing-store.js';
import { fail, out } from './output.js';
import { openHomeState } from './home-state.js';


export function runPairApprove(code: string): void {
  const state = openHomeState();
  try {
    const pairing = new PairingStore(state.db).approve(code, 'cli');
    if (!pairing) fail(new Error('no pending pairing has that code (codes expire after 1 hour; see: enclave pair list)'));
    state.audit.append({ kind: 'access_change', actor: 'cli', detail: { action: 'approve', who: `${pairing.channel}:${pairing.senderId}` } });
    out(`Approved ${pairing.senderName} (${pairing.channel}:${pairing.senderId}).`);
  } finally {
    state.close();
  }
}

export function runPairRevoke(who: string): void {
  const state = openHomeState();
  try {
    const at = who.indexOf(':');
    if (at < 1) fail(new Error(`write the person as <channel>:<sender id>, e.g. telegram:123456 (see: enclave pair list)`));
    const done = new PairingStore(state.db).revoke(who.slice(0, at), who.slice(at + 1), 'cli');
    if (!done) fail(new Error(`${who} is neither approved nor waiting`));
    state.audit.append({ kind: 'access_change', actor: 'cli', detail: { action: 'revoke', who } });
    out(`Revoked ${who}: their messages no longer reach an agent.`);
  } finally {
    state.close();
  }
}

export function runPairList(json: boolean): void {
  const state = openHomeState();
  const pairings = new PairingStore(state.db).list();
  state.close();
  if (json) return out(JSON.stringify(pairings));
  if (pairings.length === 0) return out('Nobody is approved or waiting.');
  for (const p of pairings) {
    const when = p.status === 'pending' ? `code ${p.code}, expires ${new Date(p.expiresAt).toISOString()}` : `approved ${new Date(p.decidedAt ?? p.createdAt).toISOString()} by ${p.decidedBy ?? '?'}`;
    out(`${p.status.padEnd(9)} ${`${p.channel}:${p.senderId}`.padEnd(32)} ${p.senderName.padEnd(20)} ${when}`);
  }
}

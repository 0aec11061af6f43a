import { PairingStore } from '../access/pairing-store.js';
import { PairingService } from '../services/pairing-service.js';
import { withHomeState, type HomeState, type HomeStateOptions } from './home-state.js';

const CLI_ACTOR = 'cli';

const pairings = (state: HomeState) => new PairingService({ store: new PairingStore(state.db, state.clock), audit: state.audit });

export function runPairApprove(code: string, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, (state) => {
    const pairing = pairings(state).approve(code, CLI_ACTOR);
    if (!pairing) throw new Error('no pending pairing has that code (codes expire after 1 hour; see: enclave pair list)');
    state.print(`Approved ${pairing.senderName} (${pairing.channel}:${pairing.senderId}).`);
  });
}

export function runPairRevoke(who: string, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, (state) => {
    const at = who.indexOf(':');
    if (at < 1) throw new Error(`write the person as <channel>:<sender id>, e.g. telegram:123456 (see: enclave pair list)`);
    if (!pairings(state).revoke(who.slice(0, at), who.slice(at + 1), CLI_ACTOR)) throw new Error(`${who} is neither approved nor waiting`);
    state.print(`Revoked ${who}: their messages no longer reach an agent.`);
  });
}

export function runPairList(json: boolean, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, (state) => {
    const list = pairings(state).list();
    if (json) return state.print(JSON.stringify(list));
    if (list.length === 0) return state.print('Nobody is approved or waiting.');
    for (const p of list) {
      const when = p.status === 'pending' ? `code ${p.code}, expires ${new Date(p.expiresAt).toISOString()}` : `approved ${new Date(p.decidedAt ?? p.createdAt).toISOString()} by ${p.decidedBy ?? '?'}`;
      state.print(`${p.status.padEnd(9)} ${`${p.channel}:${p.senderId}`.padEnd(32)} ${p.senderName.padEnd(20)} ${when}`);
    }
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PairingStore } from '../../src/access/pairing-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase } from '../../src/db/database.js';
import { PairingService } from '../../src/services/pairing-service.js';

const NOW = Date.parse('2026-03-05T12:00:00Z');

function rig() {
  const db = openDatabase(':memory:');
  const clock = { now: NOW };
  const store = new PairingStore(db, () => clock.now);
  const audit = new AuditLog(db, () => clock.now);
  return { store, audit, clock, pairings: new PairingService({ store, audit }) };
}

test('approve admits the sender behind a live code and audits who did it; a wrong or expired code changes nothing', () => {
  const r = rig();
  const first = r.store.request('telegram', '555', 'Stranger');
  const second = r.store.request('telegram', '556', 'Late');
  assert.ok(first.kind === 'new' && second.kind === 'new');
  assert.equal(r.pairings.approve('AAAAAAAA', 'cli'), undefined);
  const approved = r.pairings.approve(first.pairing.code.toLowerCase(), 'telegram:1');
  assert.deepEqual([approved?.status, approved?.decidedBy], ['approved', 'telegram:1']);
  assert.equal(r.store.isApproved('telegram', '555'), true);
  r.clock.now += 2 * 3_600_000;
  assert.equal(r.pairings.approve(second.pairing.code, 'cli'), undefined, 'codes expire');
  assert.deepEqual(r.pairings.list().map((p) => [p.senderId, p.status]), [['555', 'approved']]);
  assert.deepEqual(r.audit.tail(10).map((row) => [row.kind, row.actor, row.detail]), [['access_change', 'telegram:1', { action: 'approve', who: 'telegram:555' }]]);
});

test('revoke takes an approval back once and audits it', () => {
  const r = rig();
  const req = r.store.request('slack', 'U1', 'Someone');
  assert.ok(req.kind === 'new');
  r.pairings.approve(req.pairing.code, 'cli');
  assert.equal(r.pairings.revoke('slack', 'U1', 'cli'), true);
  assert.equal(r.store.isApproved('slack', 'U1'), false);
  assert.equal(r.pairings.revoke('slack', 'U1', 'cli'), false, 'nothing left to revoke');
  assert.deepEqual(r.audit.tail(10).map((row) => row.detail), [{ action: 'approve', who: 'slack:U1' }, { action: 'revoke', who: 'slack:U1' }]);
});

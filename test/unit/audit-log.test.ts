import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { auditRowHash, canonicalJson, GENESIS_HASH } from '../../src/audit/audit-hash.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase, type Db } from '../../src/db/database.js';

/** A log with five rows at t = 1..5; returns the db too, for the attacker's raw SQL. */
function fiveRows(t: TestContext): { db: Db; log: AuditLog } {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  let now = 0;
  const log = new AuditLog(db, () => ++now);
  log.append({ kind: 'model_call', group: 'main', actor: 'agent:main', detail: { model: 'gpt-x', tokens: 120, micros: 300, outcome: 'ok' } });
  log.append({ kind: 'tool_call', group: 'main', actor: 'agent:main', detail: { tool: 'web_fetch', url: 'https://example.org/' } });
  log.append({ kind: 'denial', group: 'ops', actor: 'telegram:42', detail: { reason: 'unapproved sender' } });
  log.append({ kind: 'budget_change', actor: 'owner', detail: { scope: 'main', period: 'day', usd: 2 } });
  log.append({ kind: 'secret_change', actor: 'cli', detail: { name: 'OPENAI_API_KEY', action: 'created' } });
  return { db, log };
}

/** What someone with the database file can do: the append-only triggers are no obstacle to them. */
function dropGuards(db: Db): void {
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
}

test('rows chain from the genesis hash and verify', (t) => {
  const { db, log } = fiveRows(t);
  const rows = log.tail(100);
  assert.deepEqual(rows.map((r) => r.id), [1, 2, 3, 4, 5]);
  assert.equal(rows[0]!.prevHash, GENESIS_HASH);
  for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.prevHash, rows[i - 1]!.hash);
  assert.equal(new Set(rows.map((r) => r.hash)).size, 5);
  assert.deepEqual(log.verify(), { ok: true, rows: 5 });
  assert.throws(() => db.prepare("UPDATE audit SET actor = 'x' WHERE id = 1").run(), /append-only/);
  assert.throws(() => db.prepare('DELETE FROM audit WHERE id = 1').run(), /append-only/);
});

test('an empty log verifies with 0 rows', (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  assert.deepEqual(new AuditLog(db).verify(), { ok: true, rows: 0 });
});

test('verify finds an edited detail, kind, actor or time', (t) => {
  const edits = [
    `UPDATE audit SET detail = '{"action":"created","name":"SOMETHING_ELSE"}' WHERE id = 5`,
    `UPDATE audit SET kind = 'denial' WHERE id = 2`,
    `UPDATE audit SET actor = 'owner' WHERE id = 3`,
    `UPDATE audit SET at = at + 1 WHERE id = 1`,
    `UPDATE audit SET group_name = NULL WHERE id = 1`,
  ];
  for (const edit of edits) {
    const { db, log } = fiveRows(t);
    dropGuards(db);
    const rowId = Number(/id = (\d)/.exec(edit)![1]);
    db.exec(edit);
    assert.deepEqual(log.verify(), { ok: false, rowId, reason: 'its contents were changed after it was written (the hash does not match)' }, edit);
  }
});

test('verify finds a deleted row, in the middle, first or as a renumbered gap', (t) => {
  const middle = fiveRows(t);
  dropGuards(middle.db);
  middle.db.exec('DELETE FROM audit WHERE id = 3');
  assert.deepEqual(middle.log.verify(), { ok: false, rowId: 4, reason: 'row 3 is missing before it (deleted)' });

  const first = fiveRows(t);
  dropGuards(first.db);
  first.db.exec('DELETE FROM audit WHERE id IN (1, 2)');
  assert.deepEqual(first.log.verify(), { ok: false, rowId: 3, reason: 'rows 1 to 2 are missing before it (deleted)' });

  const renumbered = fiveRows(t);
  dropGuards(renumbered.db);
  renumbered.db.exec('DELETE FROM audit WHERE id = 2; UPDATE audit SET id = id - 1 WHERE id > 2');
  const verdict = renumbered.log.verify();
  assert.equal(verdict.ok, false);
  assert.equal(!verdict.ok && verdict.rowId, 2);
  assert.match(!verdict.ok ? verdict.reason : '', /previous-row hash does not match row 1/);
});

test('verify finds reordered rows and a row whose hash was recomputed', (t) => {
  const swapped = fiveRows(t);
  dropGuards(swapped.db);
  swapped.db.exec('UPDATE audit SET id = -id WHERE id IN (2, 3); UPDATE audit SET id = 3 WHERE id = -2; UPDATE audit SET id = 2 WHERE id = -3;');
  const verdict = swapped.log.verify();
  assert.deepEqual(verdict.ok ? undefined : verdict.rowId, 2);

  // An attacker who edits a row and recomputes its hash still breaks the link from the next row.
  const rehashed = fiveRows(t);
  dropGuards(rehashed.db);
  const row2 = rehashed.log.tail(4)[0]!;
  const forged = auditRowHash(row2.prevHash, { id: 2, at: row2.at, kind: row2.kind, group: 'main', actor: 'owner', detail: canonicalJson(row2.detail) });
  rehashed.db.prepare("UPDATE audit SET actor = 'owner', hash = ? WHERE id = 2").run(forged);
  assert.deepEqual(rehashed.log.verify(), {
    ok: false,
    rowId: 3,
    reason: 'its previous-row hash does not match row 2: a row was changed, deleted, inserted or reordered there',
  });
});

test('tail: the newest n rows oldest first, filtered by kind and group', (t) => {
  const { log } = fiveRows(t);
  assert.deepEqual(log.tail(2).map((r) => r.id), [4, 5]);
  assert.deepEqual(log.tail(0), []);
  assert.deepEqual(log.tail(10, { group: 'main' }).map((r) => r.kind), ['model_call', 'tool_call']);
  const [denial] = log.tail(10, { kind: 'denial' });
  assert.deepEqual(
    { id: denial!.id, at: denial!.at, kind: denial!.kind, group: denial!.group, actor: denial!.actor, detail: denial!.detail },
    { id: 3, at: 3, kind: 'denial', group: 'ops', actor: 'telegram:42', detail: { reason: 'unapproved sender' } },
  );
  const [budget] = log.tail(1, { kind: 'budget_change' });
  assert.equal('group' in budget!, false, 'no group is left out, not null');
});

test('details never keep credentials, and are capped', (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const known = 'sk-known-vault-value-123';
  const log = new AuditLog(db, () => 1, { secrets: () => [known] });
  const row = log.append({
    kind: 'model_call',
    group: 'main',
    detail: {
      tokens: 42,
      inputTokens: 40,
      apiKey: 'sk-leak-1',
      headers: { Authorization: 'Bearer sk-leak-2', 'x-api-key': 'sk-leak-3' },
      nested: [{ bot_token: 'sk-leak-4', password: 'hunter2-leak' }],
      error: `upstream said: key ${known} is invalid; header was Bearer abcdefghijklmnop`,
      long: 'y'.repeat(5000),
    },
  });
  const text = JSON.stringify(db.prepare('SELECT detail FROM audit').get());
  for (const leak of ['sk-leak', 'hunter2', known, 'abcdefghijklmnop']) assert.ok(!text.includes(leak), `${leak} reached the audit log`);
  assert.equal(row.detail.tokens, 42, 'token counts are not credentials');
  assert.equal(row.detail.inputTokens, 40);
  assert.equal(row.detail.apiKey, '[redacted]');
  assert.match(String(row.detail.error), /key \[redacted\] is invalid; header was Bearer \[redacted\]/);
  assert.ok(String(row.detail.long).length < 1100);

  const huge = log.append({ kind: 'tool_call', detail: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'z'.repeat(500)])) });
  assert.equal(huge.detail.truncated, true);
  assert.ok(JSON.stringify(huge.detail).length < 2000);

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.deepEqual(log.append({ kind: 'denial', detail: cyclic }).detail, { unrecordable: 'the detail was not plain JSON' });
  assert.deepEqual(log.verify(), { ok: true, rows: 3 });
});

test('two connections appending in turn keep one unbroken chain', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'enc-audit-'));
  const a = openDatabase(join(dir, 'enclave.db'));
  const b = openDatabase(join(dir, 'enclave.db'));
  t.after(() => {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const host = new AuditLog(a);
  const cli = new AuditLog(b);
  for (let i = 0; i < 10; i++) (i % 3 === 0 ? cli : host).append({ kind: 'tool_call', detail: { i } });
  assert.deepEqual(host.verify(), { ok: true, rows: 10 });
  assert.deepEqual(cli.tail(10).map((r) => r.detail.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

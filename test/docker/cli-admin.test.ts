import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PairingStore } from '../../src/access/pairing-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { callControl } from '../../src/control/control-client.js';
import { History } from '../../src/db/history.js';
import { MessageStore } from '../../src/core/message-store.js';
import { SeenChats } from '../../src/core/seen-chats.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { openDatabase } from '../../src/db/database.js';
import { homePaths } from '../../src/paths.js';
import { runCli, startCliHost } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome } from '../helpers/harness.js';

const skip = await dockerSkipReason();

test('enclave groups add|list|show|remove keep files and validate the chat', async (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home };

  const added = await runCli(['groups', 'add', 'family', '--chat', 'telegram:-1001'], env);
  assert.equal(added.code, 0, added.stderr);
  assert.match(readFileSync(join(home, 'groups', 'family', 'group.yaml'), 'utf8'), /^chats: \[telegram:-1001\]$/m);
  assert.ok(existsSync(join(home, 'groups', 'family', 'memory', 'MEMORY.md')));

  const again = await runCli(['groups', 'add', 'family', '--chat', 'telegram:-1002'], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
  const taken = await runCli(['groups', 'add', 'other', '--chat', 'telegram:-1001'], env);
  assert.equal(taken.code, 1, 'a chat maps to one group only');
  assert.match(taken.stderr, /already mapped to group "family"/);
  assert.ok(!existsSync(join(home, 'groups', 'other')), 'nothing is left behind');
  const bad = await runCli(['groups', 'add', '../evil', '--chat', 'telegram:1'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot be a group name/);

  const list = await runCli(['groups', 'list', '--json'], env);
  const names = (JSON.parse(list.stdout) as { name: string }[]).map((g) => g.name);
  assert.ok(names.includes('family') && names.includes('main'));
  const show = await runCli(['groups', 'show', 'family'], env);
  assert.match(show.stdout, /chats: +telegram:-1001/);

  const before = openDatabase(homePaths(home).dbFile);
  const task = new TaskStore(before, new AuditLog(before)).create({
    group: 'family', channel: 'telegram', chatId: '-1001', prompt: 'water the plants', kind: 'interval', spec: '1d', timezone: 'UTC', nextRunAt: Date.now() + 3_600_000, createdBy: 'test',
  });
  new History(before).append('family', [{ role: 'user', content: 'my PIN is 4711' }]);
  const waiting = new MessageStore(before).insert({
    channel: 'telegram', chatId: '-1001', platformId: 'w1', senderId: '7', senderName: 'A', text: 'still waiting', isDirect: false,
    mentionsBot: true, replyToBot: false, mentions: [], fromBot: false, timestamp: 0,
  }, 'family', 'queued');
  before.close();

  const removed = await runCli(['groups', 'remove', 'family'], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(!existsSync(join(home, 'groups', 'family')));
  const kept = readdirSync(join(home, 'groups', '.removed'));
  assert.equal(kept.length, 1);
  assert.ok(existsSync(join(home, 'groups', '.removed', kept[0]!, 'memory', 'MEMORY.md')), 'memory is kept, not deleted');

  const db = openDatabase(homePaths(home).dbFile);
  const actions = new AuditLog(db).tail(50).filter((r) => r.kind === 'group_change').map((r) => r.detail.action);
  assert.equal(new TaskStore(db, new AuditLog(db)).get(task.id)?.status, 'cancelled', "the group's tasks end with it");
  assert.equal(new History(db).count('family'), 0, 'a new group reusing the name starts with no conversation');
  assert.deepEqual(new MessageStore(db).find('telegram', '-1001', 'w1'), { id: waiting, status: 'failed' }, 'its waiting messages never reach a later group');
  db.close();
  assert.deepEqual(actions, ['add', 'remove']);
});

test('enclave pair approve|list|revoke and enclave chats work on the database', async (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home };
  const db = openDatabase(homePaths(home).dbFile);
  const request = new PairingStore(db).request('telegram', '555', 'Stranger');
  assert.equal(request.kind, 'new');
  const code = request.kind === 'new' ? request.pairing.code : '';
  new SeenChats(db).record({
    channel: 'telegram', chatId: '-1009', platformId: '1', senderId: '7', senderName: 'A', text: 'hi', isDirect: false,
    mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0, chatTitle: 'Book club',
  });
  db.close();

  const pending = await runCli(['pair', 'list'], env);
  assert.match(pending.stdout, new RegExp(`pending +telegram:555 +Stranger +code ${code}`));
  const wrong = await runCli(['pair', 'approve', 'AAAAAAAA'], env);
  assert.equal(wrong.code, 1);
  const ok = await runCli(['pair', 'approve', code.toLowerCase()], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Approved Stranger \(telegram:555\)/);
  const revoked = await runCli(['pair', 'revoke', 'telegram:555'], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.equal((await runCli(['pair', 'revoke', 'telegram:555'], env)).code, 1, 'nothing left to revoke');

  const chats = await runCli(['chats'], env);
  assert.match(chats.stdout, /telegram:-1009 +\("Book club", group chat, 1 message\(s\)/);
  assert.match(chats.stdout, /enclave groups add <name> --chat telegram:-1009/);
});

test('enclave pair whatsapp checks the number before connecting anywhere', async (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const r = await runCli(['pair', 'whatsapp', '--phone', '12-ab'], { PATH: process.env.PATH, ENCLAVE_HOME: home });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /phone/i);
  assert.ok(!existsSync(join(home, 'data', 'whatsapp', 'creds.json')), 'no session was written');
});

test('enclave status and groups add talk to the running instance', { skip }, async (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home };
  assert.equal((await runCli(['status'], env)).code, 1, 'no instance yet: a clear error');
  const host = await startCliHost(env);
  t.after(() => void host.kill('SIGTERM'));
  const status = await runCli(['status'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /Channels:\n {2}local: connected, reconnects 0/);
  assert.match(status.stdout, /main: container stopped, idle; today \$0\.00 of \$1\.00/);
  const added = await runCli(['groups', 'add', 'late', '--chat', 'local:late'], env);
  assert.match(added.stdout, /The running Enclave picked it up/);
  assert.match((await runCli(['status'], env)).stdout, /Groups \(2\)/);

  // A broken group.yaml written while the host runs: a reload refuses it and the host keeps going.
  mkdirSync(join(home, 'groups', 'broken'), { recursive: true });
  writeFileSync(join(home, 'groups', 'broken', 'group.yaml'), 'chats: [local:broken\n');
  const reload = await callControl<{ error?: string }>(homePaths(home).controlSocket, 'POST', '/reload');
  assert.match(reload.error ?? '', /group\.yaml/);
  const after = await runCli(['status'], env);
  assert.equal(after.code, 0, 'the host is still running');
  assert.match(after.stdout, /Groups \(2\)/, 'with the groups it had');
});

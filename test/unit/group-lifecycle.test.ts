import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { GroupSettings } from '../../src/core/group-settings.js';
import { History } from '../../src/db/history.js';
import { MessageStore } from '../../src/core/message-store.js';
import { openDatabase } from '../../src/db/database.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { diffGroups } from '../../src/services/group-diff.js';
import { GroupLifecycle } from '../../src/services/group-lifecycle.js';
import { testGroup } from '../helpers/group-config.js';

const NOW = Date.parse('2026-03-05T12:34:56.789Z');

/** A home with groups main and team, its real database, and a "host" whose reload re-reads the files. */
function rig(t: TestContext) {
  const home = mkdtempSync(join(tmpdir(), 'enc-groups-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  mkdirSync(join(home, 'groups', 'global', 'memory'), { recursive: true });
  for (const [name, chat] of [['main', 'local:main'], ['team', 'telegram:-100']]) {
    mkdirSync(join(home, 'groups', name!, 'memory'), { recursive: true });
    writeFileSync(join(home, 'groups', name!, 'group.yaml'), `chats: [${chat}]\n`);
  }
  let config: Config = loadConfig(home);
  const db = openDatabase(join(home, 'data', 'enclave.db'));
  t.after(() => db.close());
  const audit = new AuditLog(db, () => NOW);
  const tasks = new TaskStore(db, audit, () => NOW);
  const reloads: Config[] = [];
  const groups = new GroupLifecycle({
    db,
    audit,
    clock: () => NOW,
    config: () => config,
    tasks,
    reloadHost: async () => {
      config = loadConfig(home);
      reloads.push(config);
      return true;
    },
  });
  return { home, db, audit, tasks, groups, reloads, config: () => config };
}

const message = (chatId: string, platformId: string): InboundMessage => ({
  channel: 'telegram', chatId, platformId, senderId: '7', senderName: 'A', text: 'hi', isDirect: false,
  mentionsBot: true, replyToBot: false, mentions: [], fromBot: false, timestamp: 0,
});

test('add: a folder from the templates for the chat, audited as the front end names it, then the host reloads', async (t) => {
  const r = rig(t);
  const added = await r.groups.add({ name: 'family', chat: 'telegram:-1001', actor: 'telegram:1', via: 'register' });
  assert.deepEqual(added, { name: 'family', chat: 'telegram:-1001', dir: join(r.home, 'groups', 'family'), hostReloaded: true });
  const yaml = readFileSync(join(added.dir, 'group.yaml'), 'utf8');
  assert.match(yaml, /^# Group "family", created 2026-03-05 for telegram:-1001\.$/m, 'dated by the injected clock');
  assert.match(yaml, /^chats: \[telegram:-1001\]$/m);
  assert.equal(readFileSync(join(added.dir, 'memory', 'MEMORY.md'), 'utf8').split('\n')[0], '# Memory of family');
  assert.deepEqual(r.reloads.at(-1)?.groups.get('family')?.chats, ['telegram:-1001'], 'the host sees the new group');
  const row = r.audit.tail(5, { kind: 'group_change' }).at(-1);
  assert.deepEqual([row?.group, row?.actor, row?.detail], ['family', 'telegram:1', { action: 'register', chat: 'telegram:-1001' }]);
});

test('add refuses a mapped chat, a bad or taken name, and a set of groups that would not load, leaving nothing behind', async (t) => {
  const r = rig(t);
  const before = readdirSync(join(r.home, 'groups')).sort();
  const add = (name: string, chat: string) => r.groups.add({ name, chat, actor: 'cli', via: 'add' });
  await assert.rejects(add('other', 'telegram:-100'), /chat telegram:-100 is already mapped to group "team" \(see: enclave groups show team\)/);
  await assert.rejects(add('../evil', 'telegram:1'), /cannot be a group name/);
  await assert.rejects(add('global', 'telegram:1'), /cannot be a group name/);
  await assert.rejects(add('team', 'telegram:1'), /a group named "team" already exists/);
  await assert.rejects(add('x', 'no-colon'), /is not a chat/);
  // Another folder broken since the snapshot: the new group would stop the next start, so it is taken back.
  mkdirSync(join(r.home, 'groups', 'broken'));
  writeFileSync(join(r.home, 'groups', 'broken', 'group.yaml'), 'chats: [local:x\n');
  await assert.rejects(add('late', 'telegram:-1002'), /group\.yaml/);
  assert.deepEqual(readdirSync(join(r.home, 'groups')).sort(), [...before, 'broken'].sort(), 'no new folder stayed');
  assert.equal(r.audit.tail(10, { kind: 'group_change' }).length, 0);
  assert.equal(r.reloads.length, 0, 'the host was not asked to reload');
});

test("remove: the folder is kept aside and nothing of the group reaches a later group of the same name", async (t) => {
  const r = rig(t);
  const settings = new GroupSettings(r.db);
  const history = new History(r.db);
  const store = new MessageStore(r.db);
  const task = (group: string) => r.tasks.create({ group, channel: 'telegram', chatId: '-100', prompt: 'p', kind: 'interval', spec: '1h', timezone: 'UTC', nextRunAt: NOW, createdBy: 'test' });
  const [open, paused, keep] = [task('team'), task('team'), task('main')];
  r.tasks.pause(paused.id, 'test');
  const ended = task('team');
  r.tasks.cancel(ended.id, 'test');
  history.append('team', [{ role: 'user', content: 'my PIN is 4711' }]);
  history.append('main', [{ role: 'user', content: 'hello' }]);
  settings.set('team', 'model', 'm2');
  settings.set('main', 'model', 'm2');
  const queued = store.insert(message('-100', 'q'), 'team', 'queued');
  const answered = store.insert(message('-100', 'a'), 'team', 'answered');
  writeFileSync(join(r.home, 'groups', 'team', 'memory', 'notes.md'), 'old notes');

  const removed = await r.groups.remove({ name: 'team', actor: 'cli' });
  assert.equal(removed.keptAt, join(r.home, 'groups', '.removed', 'team-2026-03-05T12-34-56-789Z'));
  assert.deepEqual(removed.cancelledTasks, [open.id, paused.id]);
  assert.equal(removed.hostReloaded, true);
  assert.equal(readFileSync(join(removed.keptAt, 'memory', 'notes.md'), 'utf8'), 'old notes', 'memory is kept, not deleted');
  assert.ok(!existsSync(join(r.home, 'groups', 'team')));
  assert.equal(r.reloads.at(-1)?.groups.has('team'), false);

  assert.deepEqual([open, paused, ended, keep].map((x) => r.tasks.get(x.id)?.status), ['cancelled', 'cancelled', 'cancelled', 'active']);
  assert.deepEqual(r.audit.tail(20, { kind: 'task_change' }).filter((row) => row.actor === 'cli').map((row) => row.detail.task), [open.id, paused.id]);
  assert.equal(history.count('team'), 0);
  assert.equal(history.count('main'), 1, 'other groups keep their conversation');
  assert.deepEqual([settings.get('team', 'model'), settings.get('main', 'model')], [undefined, 'm2']);
  assert.deepEqual([store.find('telegram', '-100', 'q'), store.find('telegram', '-100', 'a')], [{ id: queued, status: 'failed' }, { id: answered, status: 'answered' }]);
  assert.deepEqual(r.audit.tail(5, { kind: 'group_change' }).map((row) => [row.group, row.actor, row.detail.action]), [['team', 'cli', 'remove']]);

  const again = await r.groups.add({ name: 'team', chat: 'telegram:-200', actor: 'cli', via: 'add' });
  assert.deepEqual(readdirSync(join(again.dir, 'memory')), ['MEMORY.md'], 'the new group starts with a fresh folder');
  assert.equal(r.tasks.list('team').length, 0);
  assert.equal(r.audit.verify().ok, true);
});

test('a group removed and re-created under the same name and chat between two reloads is re-mapped, not unchanged', async (t) => {
  const r = rig(t);
  const before = r.config().groups;
  await r.groups.remove({ name: 'team', actor: 'cli' });
  await r.groups.add({ name: 'team', chat: 'telegram:-100', actor: 'cli', via: 'add' });
  const after = r.config().groups;
  assert.equal(after.get('team')?.dir, before.get('team')?.dir, 'same path');
  assert.deepEqual(diffGroups(before, after), { added: [], removed: [], remapped: ['team'] }, 'another folder: the old container must not serve it');
});

test('remove of a group that does not exist changes nothing', async (t) => {
  const r = rig(t);
  const kept = r.tasks.create({ group: 'ghost', channel: 'telegram', chatId: '1', prompt: 'p', kind: 'interval', spec: '1h', timezone: 'UTC', nextRunAt: NOW, createdBy: 'test' });
  await assert.rejects(r.groups.remove({ name: 'ghost', actor: 'cli' }), /there is no group named "ghost" \(see: enclave groups list\)/);
  await assert.rejects(r.groups.remove({ name: 'global', actor: 'cli' }), /there is no group named "global"/);
  assert.equal(r.tasks.get(kept.id)?.status, 'active');
  assert.equal(r.reloads.length, 0);
});

test('diffGroups tells the host which groups a reload added, removed or re-mapped', () => {
  const before = new Map([
    ['a', testGroup({ name: 'a', chats: ['local:a'] })],
    ['b', testGroup({ name: 'b', chats: ['telegram:1', 'telegram:2'] })],
    ['c', testGroup({ name: 'c', chats: ['telegram:3'] })],
    ['d', testGroup({ name: 'd' })],
  ]);
  const after = new Map([
    ['a', testGroup({ name: 'a', chats: ['local:a'] })],
    ['b', testGroup({ name: 'b', chats: ['telegram:2', 'telegram:1'] })],
    ['c', testGroup({ name: 'c', chats: ['telegram:4'] })],
    ['d', testGroup({ name: 'd', dir: '/elsewhere/d' })],
    ['e', testGroup({ name: 'e' })],
  ]);
  after.delete('a');
  assert.deepEqual(diffGroups(before, after), { added: ['e'], removed: ['a'], remapped: ['c', 'd'] });
  assert.deepEqual(diffGroups(before, before), { added: [], removed: [], remapped: [] });
});

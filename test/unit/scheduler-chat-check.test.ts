import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { TaskStore } from '../../src/scheduler/task-store.js';

test('a due task whose chat no longer belongs to its group is paused, not run and not told', async () => {
  const db = openDatabase(':memory:');
  const audit = new AuditLog(db);
  const store = new TaskStore(db, audit, () => 0);
  const task = store.create({ group: 'fam', channel: 'telegram', chatId: '-111', prompt: 'hi', kind: 'interval', spec: '1h', timezone: 'UTC', nextRunAt: 1000, createdBy: 'test' });
  const runs: number[] = [];
  const told: string[] = [];
  const scheduler = new Scheduler({
    store, clock: () => 2000, audit, log: silentLogger(),
    runTask: async (t) => {
      runs.push(t.id);
      return { ok: true };
    },
    notify: (_t, text) => void told.push(text),
    mayRun: (t) => (t.chatId === '-111' ? 'the chat telegram:-111 no longer belongs to group fam' : undefined),
    timer: { set: () => 0, clear: () => undefined },
  });
  await scheduler.tick(2000);
  assert.deepEqual(runs, []);
  assert.deepEqual(told, []);
  assert.equal(store.get(task.id)?.status, 'paused');
  assert.ok(audit.tail(10, { kind: 'task_change' }).some((r) => /no longer belongs/.test(JSON.stringify(r.detail))));
});

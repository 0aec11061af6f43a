import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Commands } from '../../src/core/commands/commands.js';
import { parseCommand } from '../../src/core/commands/parse.js';
import { tasksChatCommand } from '../../src/core/commands/tasks-chat-command.js';
import type { GroupQueue } from '../../src/core/group-queue.js';
import { MessageStore } from '../../src/core/message-store.js';
import { scheduledTurnRunner } from '../../src/core/scheduled-turns.js';
import type { SettleWaiters } from '../../src/core/settle-waiters.js';
import { openDatabase } from '../../src/db/database.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { TaskError, TaskService, type TaskCaller, type TaskProblem } from '../../src/services/task-service.js';
import { taskView } from '../../src/services/task-view.js';
import { testGroup } from '../helpers/group-config.js';

const NOW = Date.parse('2026-03-05T12:00:00Z');
const OWNER: TaskCaller = { actor: 'cli' };
const KOL_AGENT: TaskCaller = { actor: 'agent:kol', group: 'kol' };
const OTHER_CHAT: TaskCaller = { actor: 'telegram:7', group: 'other' };

/** A service over a real SQLite database and audit log, with a clock the test moves. */
function rig(opts: { maxPerGroup?: number } = {}) {
  const db = openDatabase(':memory:');
  const clock = { now: NOW };
  const audit = new AuditLog(db, () => clock.now);
  const store = new TaskStore(db, audit, () => clock.now, opts);
  const groups = new Map([
    ['kol', testGroup({ name: 'kol', timezone: 'Asia/Kolkata', chats: ['local:kol', 'telegram:111'] })],
    ['other', testGroup({ name: 'other', chats: ['slack:C9'] })],
    ['mute', testGroup({ name: 'mute', chats: [] })],
  ]);
  let changes = 0;
  const tasks = new TaskService({ store, clock: () => clock.now, groups: () => groups, onChange: () => (changes += 1) });
  return { db, audit, store, tasks, clock, changes: () => changes };
}

function problem(fn: () => unknown): { problem: TaskProblem; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaskError, `expected a TaskError, got ${String(err)}`);
    return { problem: err.problem, message: err.message };
  }
  assert.fail('expected a refusal');
}

test('add: in the group time zone, on its first chat by default, audited under the caller, scheduler woken', () => {
  const r = rig();
  const task = r.tasks.add({ group: 'kol', prompt: '  Post the news digest ', schedule: { cron: '0 9 * * 1-5' } }, OWNER);
  assert.deepEqual([task.group, task.channel, task.chatId, task.prompt, task.timezone, task.createdBy], ['kol', 'local', 'kol', 'Post the news digest', 'Asia/Kolkata', 'cli']);
  assert.equal(taskView(task).nextRunLocal, '2026-03-06 09:00 GMT+5:30');
  const second = r.tasks.add({ group: 'kol', chat: 'telegram:111', prompt: 'inbox', schedule: { every: '2h' } }, KOL_AGENT);
  assert.equal(second.nextRunAt, NOW + 2 * 3_600_000);
  assert.equal(r.changes(), 2);
  const rows = r.audit.tail(10, { kind: 'task_change' });
  assert.deepEqual(rows.map((row) => [row.actor, row.detail.action, row.detail.chat]), [['cli', 'created', 'local:kol'], ['agent:kol', 'created', 'telegram:111']]);
  assert.equal(r.audit.verify().ok, true);
});

test('add refuses bad input with a sentence and the kind of problem, and creates nothing', () => {
  const r = rig();
  const add = (group: string, extra: { chat?: string; prompt?: string; every?: string; cron?: string }, caller = OWNER) =>
    problem(() => r.tasks.add({ group, chat: extra.chat, prompt: extra.prompt ?? 'x', schedule: { every: extra.every, cron: extra.cron } }, caller));
  assert.deepEqual(add('nope', { every: '1h' }), { problem: 'not_found', message: 'no group named "nope" (groups: kol, other, mute)' });
  assert.deepEqual(add('kol', { every: '1h', prompt: '   ' }), { problem: 'invalid', message: 'the prompt is empty' });
  assert.deepEqual(add('kol', { every: '1h', prompt: 'x'.repeat(4001) }), { problem: 'invalid', message: 'the prompt is longer than 4000 characters' });
  assert.equal(add('kol', { every: '1h', chat: 'telegram:999' }).message, 'telegram:999 is not a chat of group kol (its chats: local:kol, telegram:111)');
  assert.equal(add('mute', { every: '1h' }).message, 'group mute has no chats to post to; add one to its group.yaml');
  assert.match(add('kol', { every: '10s' }).message, /too short/);
  assert.equal(add('kol', { every: '1h', cron: '* * * * *' }).problem, 'invalid', 'exactly one schedule');
  assert.equal(add('kol', { every: '1h' }, OTHER_CHAT).problem, 'denied', "a group's caller cannot add to another group");
  assert.equal(r.store.list(undefined, { includeFinished: true }).length, 0);
  assert.equal(r.changes(), 0);
});

test('the per-group limit is a refusal, counted per group', () => {
  const r = rig({ maxPerGroup: 1 });
  r.tasks.add({ group: 'kol', prompt: 'a', schedule: { every: '1h' } }, OWNER);
  assert.deepEqual(problem(() => r.tasks.add({ group: 'kol', prompt: 'b', schedule: { every: '1h' } }, OWNER)), {
    problem: 'refused',
    message: 'group kol already has 1 tasks (the most is 1); cancel one first',
  });
  assert.equal(r.tasks.add({ group: 'other', prompt: 'c', schedule: { every: '1h' } }, OWNER).group, 'other');
});

test("a group's caller sees and changes only its own tasks; another group's task reads as missing", () => {
  const r = rig();
  const kol = r.tasks.add({ group: 'kol', prompt: 'a', schedule: { every: '1h' } }, OWNER);
  const other = r.tasks.add({ group: 'other', prompt: 'b', schedule: { every: '1h' } }, OWNER);
  assert.deepEqual(r.tasks.list(KOL_AGENT).map((t) => t.id), [kol.id]);
  assert.deepEqual(r.tasks.list(KOL_AGENT, { group: 'other' }), [], 'a scope cannot be widened by naming another group');
  assert.deepEqual(r.tasks.list(OWNER).map((t) => t.id), [kol.id, other.id]);
  assert.deepEqual(r.tasks.list(OWNER, { group: 'other' }).map((t) => t.id), [other.id]);
  const denied = problem(() => r.tasks.cancel(other.id, KOL_AGENT));
  const missing = problem(() => r.tasks.cancel(99, KOL_AGENT));
  assert.deepEqual([denied.problem, missing.problem], ['denied', 'not_found']);
  assert.equal(denied.message.replace(String(other.id), 'N'), missing.message.replace('99', 'N'), 'the same words either way');
  assert.equal(r.store.get(other.id)?.status, 'active');
  for (const change of ['pause', 'resume'] as const) assert.equal(problem(() => r.tasks[change](other.id, KOL_AGENT)).problem, 'denied');
});

test('cancel, pause and resume: each only from the right state; resume picks the next slot after now', () => {
  const r = rig();
  const task = r.tasks.add({ group: 'kol', prompt: 'a', schedule: { every: '2h' } }, OWNER);
  assert.equal(r.tasks.pause(task.id, OWNER).status, 'paused');
  assert.deepEqual(problem(() => r.tasks.pause(task.id, OWNER)), { problem: 'refused', message: `task #${task.id} is not active (paused)` });
  r.clock.now = NOW + 5 * 3_600_000;
  const resumed = r.tasks.resume(task.id, OWNER);
  assert.deepEqual([resumed.status, resumed.nextRunAt], ['active', NOW + 6 * 3_600_000], 'the next slot of the interval after now');
  assert.equal(problem(() => r.tasks.resume(task.id, OWNER)).message, `task #${task.id} is not paused (active)`);
  assert.equal(r.tasks.cancel(task.id, { actor: 'telegram:1', group: 'kol' }).status, 'cancelled');
  assert.deepEqual(problem(() => r.tasks.cancel(task.id, OWNER)), { problem: 'refused', message: `task #${task.id} has already ended (cancelled)` });
  assert.equal(problem(() => r.tasks.cancel(404, OWNER)).message, 'there is no task #404');
  assert.deepEqual(
    r.audit.tail(10, { kind: 'task_change' }).map((row) => [row.actor, row.detail.action]),
    [['cli', 'created'], ['cli', 'paused'], ['cli', 'active'], ['telegram:1', 'cancelled']],
  );
  assert.equal(r.changes(), 4);

  const once = r.tasks.add({ group: 'kol', prompt: 'b', schedule: { at: '2026-03-06T09:00' } }, OWNER);
  r.tasks.pause(once.id, OWNER);
  r.clock.now = NOW + 24 * 3_600_000;
  assert.equal(r.tasks.resume(once.id, OWNER).nextRunAt, r.clock.now, 'a one-shot whose time passed runs now');
});

test('/tasks lists and cancels through the service: only this group\'s tasks, only by the owner', async () => {
  const r = rig();
  const mine = r.tasks.add({ group: 'kol', prompt: 'water the plants', schedule: { every: '1d' } }, OWNER);
  const theirs = r.tasks.add({ group: 'other', prompt: 'b', schedule: { every: '1h' } }, OWNER);
  const commands = new Commands([tasksChatCommand({ tasks: r.tasks })], { audit: r.audit, notices: new RefusalNotices(r.db, () => r.clock.now) });
  const group = testGroup({ name: 'kol', timezone: 'Asia/Kolkata', chats: ['telegram:111'] });
  const say = (text: string, owner: boolean) => {
    const msg: InboundMessage = {
      channel: 'telegram', chatId: '111', platformId: text, senderId: owner ? '1' : '2', senderName: 'A', text, isDirect: false,
      mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0,
    };
    return commands.run(parseCommand(text)!, { msg, group, owner, identity: `telegram:${msg.senderId}` });
  };
  assert.equal(await say('/tasks', false), `Scheduled tasks of kol:\n#${mine.id} every 1d (active, next 2026-03-06 17:30 GMT+5:30): water the plants`);
  assert.equal(await say(`/tasks cancel ${mine.id}`, false), 'Only the owner can use /tasks cancel.');
  assert.equal(await say(`/tasks cancel ${theirs.id}`, true), `There is no active task #${theirs.id} in this group (see /tasks).`);
  assert.equal(r.store.get(theirs.id)?.status, 'active', "another group's task is untouched");
  assert.equal(await say(`/tasks cancel #${mine.id}`, true), `Cancelled task #${mine.id}.`);
  assert.equal(await say(`/tasks cancel ${mine.id}`, true), `There is no active task #${mine.id} in this group (see /tasks).`);
  assert.equal(r.audit.tail(5, { kind: 'task_change' }).at(-1)?.actor, 'telegram:1');
  assert.equal(await say('/tasks', true), 'No scheduled tasks. Ask the assistant to remind you of something, or use `enclave tasks add`.');
});

test('a task made in a thread or forum topic keeps it: its scheduled turn and its answer go there', async () => {
  const { db, tasks, store } = rig();
  const task = tasks.add({ group: 'kol', chat: 'telegram:111', threadId: '42', prompt: 'standup', schedule: { every: '1h' } }, KOL_AGENT);
  assert.equal(store.get(task.id)?.threadId, '42', 'stored with the task');
  const messages = new MessageStore(db, () => NOW);
  const queued: string[] = [];
  const run = scheduledTurnRunner({
    store: messages,
    waiters: { wait: async () => 'answered' } as unknown as SettleWaiters,
    queue: { enqueue: (g: string) => queued.push(g) } as unknown as GroupQueue,
    stopping: () => false,
    clock: () => NOW,
  });
  assert.deepEqual(await run(store.get(task.id)!), { ok: true });
  assert.deepEqual(queued, ['kol']);
  const [claimed] = messages.claimQueued('kol');
  assert.equal(claimed?.threadId, '42', 'the scheduled message is in the task\'s thread, so the turn answers there');
});

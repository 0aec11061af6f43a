import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { MAX_NEW_KINDS_PER_MINUTE, ThrottledAudit } from '../../src/audit/throttled-audit.js';
import type { GroupConfig } from '../../src/config/groups.js';
import { groupConfigSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { createHostTools } from '../../src/tools/host-tools.js';
import { DEFAULT_TOOL_LIMITS, ToolRateLimiter } from '../../src/tools/rate-limit.js';
import { MAX_SEND_MESSAGE_CHARS } from '../../src/tools/send-message.js';
import { testGroup } from '../helpers/group-config.js';

/** The real dispatcher over a real audit table, with a clock the test moves. */
function host(group: GroupConfig = testGroup({ name: 'loop' })) {
  let now = Date.parse('2026-03-05T12:00:00Z');
  const clock = () => now;
  const db = openDatabase(':memory:');
  const log = new AuditLog(db, clock);
  const audit = new ThrottledAudit(log, clock);
  const delivered: string[] = [];
  const dispatcher = createHostTools({
    groups: () => new Map([[group.name, group]]),
    turnTarget: (g, turnId) => (g === group.name && turnId.startsWith('turn-') ? { channel: 'local', chatId: g } : undefined),
    send: async (_g, _turn, text) => {
      delivered.push(text);
      return { ok: true };
    },
    tasks: new TaskStore(db, log, clock),
    audit,
    clock,
  });
  const rows = () => (db.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n;
  return { dispatcher, audit, log, delivered, rows, advance: (ms: number) => (now += ms) };
}

test('a turn looping list_tasks 187,000 times in 45 s writes a bounded number of audit rows and is told to stop', async () => {
  const h = host();
  let performed = 0;
  let lastError = '';
  for (let i = 0; i < 187_000; i++) {
    const res = await h.dispatcher.handle('loop', 'turn-1', 'list_tasks', {});
    if (res.ok) performed += 1;
    else lastError = res.error ?? '';
    h.advance(45_000 / 187_000);
  }
  h.audit.flush();
  assert.ok(performed <= DEFAULT_TOOL_LIMITS.callsPerMinute, `performed ${performed} calls`);
  assert.ok(performed >= 100, 'an honest burst of calls is not refused');
  assert.match(lastError, /host tool calls .*the most/);
  assert.ok(h.rows() < 300, `${h.rows()} audit rows for 187,000 calls`);
  const summaries = h.log.tail(10).filter((r) => r.detail.reason === 'repeated_calls' || r.detail.reason === 'refusal_flood');
  const counted = summaries.reduce((n, r) => n + Number(r.detail.suppressed), 0);
  assert.equal(counted + h.rows() - summaries.length, 187_000, 'every call is either a row or counted in a summary');
  assert.deepEqual(h.log.verify(), { ok: true, rows: h.rows() });
});

test('send_message is capped per turn: 1,000 messages from one turn deliver at most the cap, the rest are refused with a reason', async () => {
  const h = host();
  const answers = [];
  for (let i = 0; i < 1000; i++) answers.push(await h.dispatcher.handle('loop', 'turn-1', 'send_message', { text: `spam ${i}` }));
  assert.equal(h.delivered.length, DEFAULT_TOOL_LIMITS.messagesPerTurn);
  assert.deepEqual(h.delivered.slice(0, 2), ['spam 0', 'spam 1']);
  assert.equal(answers.filter((a) => a.ok).length, DEFAULT_TOOL_LIMITS.messagesPerTurn);
  assert.match(answers.at(-1)!.error ?? '', /this turn has sent 20 messages, the most one turn may send; put the rest into your final answer/);
  h.advance(60_000);
  assert.equal((await h.dispatcher.handle('loop', 'turn-2', 'send_message', { text: 'next turn' })).ok, true, 'the next turn may send again');
});

test('the per-minute limit holds across turns and lifts in the next minute; limits come from the group', async () => {
  const group = testGroup({ name: 'loop' });
  const h = host(group);
  const tight = { callsPerTurn: 5, callsPerMinute: 8, messagesPerTurn: 2 };
  const dispatcher = createHostTools({
    groups: () => new Map([[group.name, group]]),
    turnTarget: () => ({ channel: 'local', chatId: 'loop' }),
    send: async () => ({ ok: true }),
    tasks: new TaskStore(openDatabase(':memory:'), h.audit, () => 0),
    audit: h.audit,
    clock: () => now,
    limits: () => tight,
  });
  let now = 0;
  const ok = async (turn: string) => (await dispatcher.handle('loop', turn, 'list_tasks', {})).ok;
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await ok('turn-a'));
  assert.deepEqual(results, [true, true, true, true, true, false], 'five calls per turn');
  assert.deepEqual([await ok('turn-b'), await ok('turn-b'), await ok('turn-b'), await ok('turn-b')], [true, true, true, false], 'eight per minute across turns');
  now += 60_000;
  assert.equal(await ok('turn-b'), true, 'a new minute');
});

test('a refused call is not performed and a tool the group did not enable is refused before any limit is spent', async () => {
  const group = testGroup({ name: 'loop', tools: ['list_tasks'] });
  const h = host(group);
  const refused = await h.dispatcher.handle('loop', 'turn-1', 'send_message', { text: 'hi' });
  assert.deepEqual(refused, { ok: false, error: 'send_message is not enabled for this group (tools in group.yaml)' });
  assert.deepEqual(h.delivered, []);
  const stranger = await h.dispatcher.handle('loop', 'not-running', 'list_tasks', {});
  assert.deepEqual(stranger, { ok: false, error: 'no turn of this group is in progress' });
  const rows = h.log.tail(5).filter((r) => r.detail.tool !== undefined);
  assert.deepEqual(rows.map((r) => [r.kind, r.detail.tool, r.detail.outcome]), [
    ['denial', 'send_message', 'refused'],
    ['denial', 'list_tasks', 'denied'],
  ]);
});

test('a group\'s toolLimits in group.yaml override the defaults', async () => {
  const raw = groupConfigSchema.parse({ toolLimits: { messagesPerTurn: 2 } });
  assert.throws(() => groupConfigSchema.parse({ toolLimits: { messages: 2 } }), /messages/);
  const h = host(testGroup({ name: 'loop', toolLimits: raw.toolLimits }));
  for (let i = 0; i < 5; i++) await h.dispatcher.handle('loop', 'turn-1', 'send_message', { text: `m${i}` });
  assert.deepEqual(h.delivered, ['m0', 'm1']);
});

test('send_message refuses text longer than MAX_SEND_MESSAGE_CHARS, so one call cannot become a hundred posts', async () => {
  const h = host();
  const long = await h.dispatcher.handle('loop', 'turn-1', 'send_message', { text: 'x'.repeat(256 * 1024) });
  assert.equal(long.ok, false);
  assert.match(long.error ?? '', new RegExp(`more than the ${MAX_SEND_MESSAGE_CHARS} one send_message may carry; shorten it, or split it`));
  assert.deepEqual(h.delivered, [], 'nothing of the long text reached the chat');
  const atCap = await h.dispatcher.handle('loop', 'turn-1', 'send_message', { text: 'y'.repeat(MAX_SEND_MESSAGE_CHARS) });
  assert.equal(atCap.ok, true);
  assert.equal(h.delivered.length, 1);
});

test('the per-minute limit is a sliding minute: a burst across a minute boundary gets the limit once, not twice', () => {
  let now = 0;
  const limiter = new ToolRateLimiter(() => now);
  const allowed = (turn: string, n: number) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (!limiter.take('g', turn, 'list_tasks', DEFAULT_TOOL_LIMITS)) ok += 1;
    return ok;
  };
  assert.equal(allowed('turn-1', 1), 1);
  now = 59_900;
  const before = allowed('turn-2', 200);
  now = 60_000;
  const after = allowed('turn-3', 200);
  assert.equal(before + after, DEFAULT_TOOL_LIMITS.callsPerMinute, `${before + after} calls allowed within 100 ms`);
  now = 119_899;
  assert.equal(allowed('turn-4', 1), 0, 'the calls of 59.9 s ago still count');
  now = 119_900;
  assert.equal(allowed('turn-4', 200), DEFAULT_TOOL_LIMITS.callsPerMinute - 1, 'a minute after the burst the calls are allowed again');
});

test('300,000 calls of made-up tool names in a minute write a bounded number of audit rows and keep no per-name state', async () => {
  const h = host();
  for (let i = 0; i < 300_000; i++) {
    const res = await h.dispatcher.handle('loop', 'turn-1', `${'x'.repeat(90)}${i}`, {});
    assert.equal(res.ok, false);
  }
  const during = h.rows();
  assert.ok(during <= 60 + MAX_NEW_KINDS_PER_MINUTE, `${during} rows for one minute of refusals`);
  h.advance(61_000);
  h.audit.flush();
  const summary = h.log.tail(1)[0]!;
  assert.equal(summary.detail.reason, 'refusal_flood');
  assert.deepEqual(summary.detail.byKind, { 'invalid unknown': 300_000 - during });
});

test('task changes an agent makes go through the throttled agent audit', async () => {
  const h = host();
  for (let i = 0; i < 50; i++) {
    h.advance(300);
    const made = await h.dispatcher.handle('loop', 'turn-1', 'schedule_task', { prompt: `task ${i}`, every: '1h' });
    assert.equal(made.ok, true, made.error);
    const id = (made.result as { task: { id: number } }).task.id;
    assert.equal((await h.dispatcher.handle('loop', 'turn-1', 'cancel_task', { id })).ok, true);
  }
  const changes = () => h.log.tail(1000).filter((r) => r.kind === 'task_change' && r.actor !== 'host').length;
  assert.ok(changes() <= 60, `${changes()} task_change rows for 100 changes in 15 s`);
  h.audit.flush();
  const summary = h.log.tail(5).find((r) => r.detail.reason === 'repeated_task_changes')!;
  assert.equal(summary.kind, 'task_change');
  const counted = Object.values(summary.detail.byKind as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(counted + changes(), 100, 'every change is a row or counted in the summary');
});

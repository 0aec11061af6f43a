import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HOST_TOOL_NAMES, HOST_TOOL_SPECS, type HostToolResults, type TaskView } from '../../container/agent/host-tool-contract.js';
import type { HostToolResponse } from '../../container/agent/protocol.js';
import type { AuditEntry } from '../../src/audit/types.js';
import { tasksCommand, type TasksAction, type TasksOptions } from '../../src/cli/tasks-command.js';
import { openDatabase } from '../../src/db/database.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import type { GroupConfig } from '../../src/config/groups.js';
import { createHostTools } from '../../src/tools/host-tools.js';
import { testGroup } from '../helpers/group-config.js';

const NOW = Date.parse('2026-03-05T12:00:00Z');

interface Caller {
  group: GroupConfig;
  channel: string;
  chatId: string;
}

/** The task tools behind the real dispatcher; each caller's group is "configured" and has a running turn. */
function tools(opts: { maxPerGroup?: number } = {}) {
  const audit: AuditEntry[] = [];
  const sink = { append: (e: AuditEntry) => audit.push(e) };
  const store = new TaskStore(openDatabase(':memory:'), sink, () => NOW, opts);
  let changes = 0;
  const groups = new Map<string, GroupConfig>();
  const turns = new Map<string, { channel: string; chatId: string }>();
  const dispatcher = createHostTools({
    groups: () => groups,
    turnTarget: (group, turnId) => (turnId === `turn-${group}` ? turns.get(group) : undefined),
    send: async () => ({ ok: true }),
    tasks: store,
    onTasksChanged: () => (changes += 1),
    audit: sink,
    clock: () => NOW,
  });
  const t = {
    handle: (tool: string, caller: Caller, args: unknown): Promise<HostToolResponse> => {
      groups.set(caller.group.name, caller.group);
      turns.set(caller.group.name, { channel: caller.channel, chatId: caller.chatId });
      return dispatcher.handle(caller.group.name, `turn-${caller.group.name}`, tool, args as Record<string, unknown>);
    },
  };
  return { t, store, audit, changes: () => changes };
}

const taskOf = (res: HostToolResponse): TaskView => (res.result as HostToolResults['schedule_task']).task;
const tasksOf = (res: HostToolResponse): TaskView[] => (res.result as HostToolResults['list_tasks']).tasks;

const kol: Caller = { group: testGroup({ name: 'kol', timezone: 'Asia/Kolkata', chats: ['telegram:111'] }), channel: 'telegram', chatId: '111' };
const other: Caller = { group: testGroup({ name: 'other', timezone: 'UTC', chats: ['slack:C9'] }), channel: 'slack', chatId: 'C9' };

test('schedule_task creates a task for the calling group and chat, in its time zone', async () => {
  const { t, store, audit, changes } = tools();
  const res = await t.handle('schedule_task', kol, { prompt: ' Post the news digest ', cron: '0 9 * * 1-5', every: null });
  assert.equal(res.ok, true, res.error);
  assert.equal(taskOf(res).schedule, 'cron 0 9 * * 1-5');
  assert.equal(taskOf(res).nextRunAt, '2026-03-06T03:30:00.000Z');
  assert.equal(taskOf(res).nextRunLocal, '2026-03-06 09:00 GMT+5:30');
  const stored = store.get(taskOf(res).id)!;
  assert.deepEqual(
    [stored.group, stored.channel, stored.chatId, stored.prompt, stored.timezone, stored.createdBy],
    ['kol', 'telegram', '111', 'Post the news digest', 'Asia/Kolkata', 'agent:kol'],
  );
  assert.equal(changes(), 1, 'the scheduler was woken');
  assert.deepEqual(audit.map((e) => [e.kind, e.group, e.actor, e.detail.action ?? e.detail.outcome]), [
    ['task_change', 'kol', 'agent:kol', 'created'],
    ['tool_call', 'kol', 'agent:kol', 'ok'],
  ]);
});

test('list_tasks and cancel_task see only the calling group; another group\'s task "does not exist"', async () => {
  const { t, store, audit } = tools();
  const mine = taskOf(await t.handle('schedule_task', kol, { prompt: 'mine', every: '1h' }));
  const theirs = taskOf(await t.handle('schedule_task', other, { prompt: 'theirs', at: '2026-03-06T10:00' }));

  const listed = await t.handle('list_tasks', kol, {});
  assert.deepEqual(tasksOf(listed).map((x) => x.prompt), ['mine']);

  const foreign = await t.handle('cancel_task', kol, { id: theirs.id });
  const missing = await t.handle('cancel_task', kol, { id: 999 });
  assert.deepEqual(foreign, { ok: false, error: `there is no task #${theirs.id}` });
  assert.deepEqual(missing, { ok: false, error: 'there is no task #999' }, 'the same answer as for a task that exists elsewhere');
  assert.equal(store.get(theirs.id)!.status, 'active');
  assert.equal(audit.at(-2)!.detail.outcome, 'denied', 'the audit log knows it was another group\'s task');

  const smuggled = await t.handle('schedule_task', kol, { prompt: 'x', every: '1h', group: 'other' });
  assert.equal(smuggled.ok, false);
  assert.match(smuggled.error!, /Unrecognized key: "group"/);
  assert.equal(store.list('other').length, 1, 'nothing was added to the other group');

  assert.equal(taskOf(await t.handle('cancel_task', kol, { id: `#${mine.id}` })).status, 'cancelled');
  assert.deepEqual(await t.handle('cancel_task', kol, { id: mine.id }), { ok: false, error: `task #${mine.id} has already ended (cancelled)` });
  assert.deepEqual(tasksOf(await t.handle('list_tasks', kol, {})), []);
  assert.equal(audit.filter((e) => e.detail.tool !== undefined).length, 9, 'every call was audited, performed or refused');
});

test('task tool arguments are validated, and a group gets only the tools it enabled', async () => {
  const { t, store } = tools({ maxPerGroup: 2 });
  const refused = async (args: unknown, tool = 'schedule_task', caller = kol) => {
    const res = await t.handle(tool, caller, args);
    assert.equal(res.ok, false, JSON.stringify(args));
    return res.error!;
  };
  assert.match(await refused({ every: '1h' }), /prompt: prompt must be a string/);
  assert.match(await refused({ prompt: '   ', every: '1h' }), /prompt is empty/);
  assert.match(await refused({ prompt: 'x'.repeat(4001), every: '1h' }), /longer than 4000 characters/);
  assert.match(await refused({ prompt: 'x' }), /give exactly one of/);
  assert.match(await refused({ prompt: 'x', cron: '0 9 * * *', at: '2026-03-06T09:00' }), /give exactly one of/);
  assert.match(await refused({ prompt: 'x', every: '30s' }), /too short/);
  assert.match(await refused({ prompt: 'x', cron: '99 * * * *' }), /invalid cron expression/);
  assert.match(await refused({ prompt: 'x', at: '2026-03-01T09:00' }), /in the past/);
  assert.match(await refused({ prompt: 'x', every: 5 }), /every: /);
  assert.match(await refused(['x']), /expected object/);
  assert.match(await refused({ id: 'abc' }, 'cancel_task'), /id must be a task number/);
  assert.match(await refused({ id: 1.5 }, 'cancel_task'), /id must be a task number/);
  assert.match(await refused({ verbose: true }, 'list_tasks'), /Unrecognized key/);
  assert.match(await refused({}, 'delete_everything'), /unknown tool "delete_everything"/);
  const noTools: Caller = { ...kol, group: testGroup({ name: 'kol', tools: ['send_message'] }) };
  assert.match(await refused({ prompt: 'x', every: '1h' }, 'schedule_task', noTools), /not enabled for this group/);
  assert.equal(store.list().length, 0, 'no refused call created a task');

  await t.handle('schedule_task', kol, { prompt: 'a', every: '1h' });
  await t.handle('schedule_task', kol, { prompt: 'b', every: '1h' });
  assert.match(await refused({ prompt: 'c', every: '1h' }), /already has 2 tasks \(the most is 2\)/);
  assert.equal((await t.handle('schedule_task', other, { prompt: 'c', every: '1h' })).ok, true, 'the limit is per group');
});

test('the one host-tool contract names every tool the host performs, with its schema, and imports nothing', () => {
  assert.deepEqual(HOST_TOOL_SPECS.map((s) => s.name), [...HOST_TOOL_NAMES]);
  const schedule = HOST_TOOL_SPECS.find((s) => s.name === 'schedule_task')!.parameters as { properties: Record<string, unknown>; required: string[] };
  assert.deepEqual(Object.keys(schedule.properties).sort(), ['at', 'cron', 'every', 'prompt']);
  assert.deepEqual(schedule.required, ['prompt']);
  const source = readFileSync(fileURLToPath(new URL('../../container/agent/host-tool-contract.js', import.meta.url)), 'utf8');
  // Its only import is its sibling for the team tools, which imports nothing itself.
  assert.doesNotMatch(source.replace("import { TEAM_TOOL_NAMES, TEAM_TOOL_SPECS } from './team-tool-contract.js';", ''), /\bimport\b|\brequire\(/);
  const team = readFileSync(fileURLToPath(new URL('../../container/agent/team-tool-contract.js', import.meta.url)), 'utf8');
  assert.doesNotMatch(team, /\bimport\b|\brequire\(/);
});

function makeHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'enc-tasks-'));
  mkdirSync(join(home, 'groups', 'global', 'memory'), { recursive: true });
  mkdirSync(join(home, 'groups', 'kol'), { recursive: true });
  writeFileSync(join(home, 'groups', 'kol', 'group.yaml'), 'chats: [local:kol, telegram:123]\ntimezone: Asia/Kolkata\n');
  return home;
}

test('enclave tasks add, list, pause, resume and rm', (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const audit: AuditEntry[] = [];
  const run = (action: TasksAction, opts: TasksOptions, auditLog: 'captured' | 'database' = 'captured') => {
    let out = '';
    const sink = { write: (chunk: string) => ((out += chunk), true) } as unknown as NodeJS.WritableStream;
    const openAudit = auditLog === 'captured' ? () => ({ append: (e: AuditEntry) => audit.push(e) }) : undefined;
    tasksCommand(action, opts, { home, out: sink, clock: () => NOW, openAudit });
    return out;
  };

  assert.equal(
    run('add', { group: 'kol', cron: '0 9 * * 1-5', prompt: 'Post the news digest' }),
    'Task #1 added to group kol: cron 0 9 * * 1-5 (Asia/Kolkata), next run 2026-03-06 09:00 GMT+5:30.\n',
  );
  assert.match(run('add', { group: 'kol', every: '2h', chat: 'telegram:123', prompt: 'Check the inbox' }), /^Task #2 added .* next run 2026-03-05 19:30 GMT\+5:30\.\n$/);
  assert.throws(() => run('add', { group: 'kol', every: '2h', chat: 'telegram:999', prompt: 'x' }), /telegram:999 is not a chat of group kol \(its chats: local:kol, telegram:123\)/);
  assert.throws(() => run('add', { group: 'nope', every: '2h', prompt: 'x' }), /no group named "nope" \(groups: kol\)/);
  assert.throws(() => run('add', { group: 'kol', every: '10s', prompt: 'x' }), /too short/);
  assert.throws(() => run('add', { group: 'kol', every: '1h', prompt: ' ' }), /the prompt is empty/);

  const listing = run('list', {});
  assert.match(listing, /^#1 {2}kol {2}active {2}cron 0 9 \* \* 1-5 {2}· {2}next 2026-03-06 09:00 GMT\+5:30 {2}· {2}local:kol\n {4}Post the news digest\n/);
  assert.match(listing, /#2 {2}kol {2}active {2}every 2h .* telegram:123\n {4}Check the inbox\n$/);
  const json = JSON.parse(run('list', { json: true, group: 'kol' })) as { id: number; group: string; chat: string }[];
  assert.deepEqual(json.map((x) => [x.id, x.group, x.chat]), [[1, 'kol', 'local:kol'], [2, 'kol', 'telegram:123']]);
  assert.equal(run('list', { group: 'other' }), 'No tasks in group other.\n');

  assert.equal(run('pause', { id: '2' }), 'Task #2 paused.\n');
  assert.equal(run('resume', { id: '#2' }), 'Task #2 resumed; next run 2026-03-05 19:30 GMT+5:30.\n');
  assert.equal(run('rm', { id: '1' }), 'Task #1 cancelled.\n');
  assert.throws(() => run('rm', { id: '1' }), /task #1 has already ended \(cancelled\)/);
  assert.throws(() => run('rm', { id: '99' }), /there is no task #99/);
  assert.throws(() => run('rm', { id: 'one' }), /"one" is not a task id/);
  assert.deepEqual(JSON.parse(run('list', { json: true })).map((x: { id: number }) => x.id), [2]);
  assert.deepEqual(JSON.parse(run('list', { json: true, all: true })).map((x: { id: number }) => x.id), [1, 2]);
  assert.deepEqual(audit.map((e) => [e.actor, e.detail.action]), [
    ['cli', 'created'],
    ['cli', 'created'],
    ['cli', 'paused'],
    ['cli', 'active'],
    ['cli', 'cancelled'],
  ]);

  // A running host's scheduler reads the same database: it sees the task the CLI added.
  const db = openDatabase(join(home, 'data', 'enclave.db'));
  try {
    const store = new TaskStore(db, { append: () => undefined });
    assert.deepEqual(store.due(Date.parse('2026-03-05T14:00:00Z')).map((x) => x.prompt), ['Check the inbox']);
    run('pause', { id: '2' }, 'database');
    assert.deepEqual(db.prepare('SELECT kind, group_name, actor FROM audit').all(), [{ kind: 'task_change', group_name: 'kol', actor: 'cli' }]);
  } finally {
    db.close();
  }
});

test('enclave tasks: a problem is printed without a stack trace and exits 1', async (t) => {
  const home = makeHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const module = new URL('../../src/cli/tasks-command.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { runTasks } from '${module}'; runTasks('rm', { id: '5' });`], {
    env: { PATH: process.env.PATH, ENCLAVE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 1);
  assert.equal(stderr, 'enclave: there is no task #5\n');
});

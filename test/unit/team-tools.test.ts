import assert from 'node:assert/strict';
import { configHome } from '../helpers/config-home.js';
import { test, type TestContext } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { ActiveTurns } from '../../src/core/active-turns.js';
import { sendFileFromAgent, sendFromAgent } from '../../src/core/agent-messages.js';
import type { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { BoardService } from '../../src/teams/board-service.js';
import { BoardStore } from '../../src/teams/board-store.js';
import { TeamService } from '../../src/teams/team-service.js';
import { TeamTaskStore } from '../../src/teams/team-store.js';
import { teamTools } from '../../src/teams/team-tools.js';
import { AskWaiters, TeamTurns } from '../../src/teams/team-turns.js';
import { createHostTools } from '../../src/tools/host-tools.js';
import { sleep } from '../../src/time/sleep.js';

/** A real config with a team, the real dispatcher, team service and stores over SQLite. */
function host(t: TestContext) {
  const home = configHome(t, 'teams:\n  home: { members: [main, researcher, planner] }\n', {
    main: 'chats: [local:main]\nteam: { handOffTo: [researcher] }\n',
    researcher: 'chats: []\ntools: [send_message, schedule_task]\nteam: { handOffTo: [planner], board: { write: [notes/*] } }\n',
    planner: 'chats: []\n',
  });
  const config = loadConfig(home, {});
  const db = openDatabase(':memory:');
  const clock = () => Date.parse('2026-05-01T10:00:00Z');
  const audit = new AuditLog(db, clock);
  const store = new TeamTaskStore(db, clock);
  const teamTurns = new TeamTurns();
  const active = new ActiveTurns();
  const woken: string[] = [];
  const outboxed: unknown[] = [];
  const outbox = { add: (m: unknown) => outboxed.push(m), flushChat: async () => undefined } as unknown as Outbox;
  const service = new TeamService({
    config: () => config, store, turns: teamTurns, waiters: new AskWaiters(), audit, wake: (g) => woken.push(g),
    lendSlotWhile: (_g, p) => p, tellChat: () => undefined, abortTurn: () => undefined, sleep,
  });
  const dispatcher = createHostTools({
    groups: () => config.groups,
    turnTarget: (g, id) => active.get(g, id),
    send: (g, id, text) => sendFromAgent(active, outbox, g, id, text),
    tasks: new TaskStore(db, audit, clock),
    audit,
    clock,
    extraTools: teamTools(service, new BoardService(new BoardStore(db, clock), audit), teamTurns),
  });
  return { dispatcher, store, active, teamTurns, woken, outboxed, audit, outbox };
}

test('the caller is the socket\'s group: no argument can name another caller, and rights are the caller\'s own', async (t) => {
  const h = host(t);
  h.active.begin('turn-r', { group: 'researcher', channel: '', chatId: '', replyTo: '', sent: 0 });
  // researcher's socket: fields that try to name main as the caller are refused outright.
  const spoofed = await h.dispatcher.handle('researcher', 'turn-r', 'hand_off', { to: 'planner', title: 't', brief: 'b', from: 'main' });
  assert.deepEqual(spoofed, { ok: false, error: 'invalid arguments: Unrecognized key: "from"' });
  // main may hand off to researcher only; the researcher may not reach main even though main may reach it.
  const up = await h.dispatcher.handle('researcher', 'turn-r', 'hand_off', { to: 'main', title: 't', brief: 'b' });
  assert.equal(up.ok, false);
  assert.match(up.error!, /you may not hand work to "main"/);
  // A turn id of another group is not this group's turn.
  h.active.begin('turn-m', { group: 'main', channel: 'local', chatId: 'main', replyTo: '', sent: 0 });
  const borrowed = await h.dispatcher.handle('researcher', 'turn-m', 'hand_off', { to: 'planner', title: 't', brief: 'b' });
  assert.deepEqual(borrowed, { ok: false, error: 'no turn of this group is in progress' });
  const ok = await h.dispatcher.handle('researcher', 'turn-r', 'hand_off', { to: 'planner', title: 't', brief: 'b' });
  assert.equal(ok.ok, true);
  const task = h.store.list()[0]!;
  assert.deepEqual([task.from, task.to, task.depth], ['researcher', 'planner', 1]);
  assert.deepEqual(h.woken, ['planner']);
  const row = h.audit.tail(10, { kind: 'tool_call', group: 'researcher' }).find((r) => r.detail.tool === 'hand_off');
  assert.equal(row?.detail.chain, task.chainId, 'the tool call is audited with its chain');
});

test('a worker has no chat to send to: send_message and schedule_task are refused by the host even when listed in its tools', async (t) => {
  const h = host(t);
  h.active.begin('turn-r', { group: 'researcher', channel: '', chatId: '', replyTo: '', sent: 0 });
  const sent = await h.dispatcher.handle('researcher', 'turn-r', 'send_message', { text: 'hi' });
  assert.deepEqual(sent, { ok: false, error: 'send_message is not enabled for this group (tools in group.yaml)' });
  const scheduled = await h.dispatcher.handle('researcher', 'turn-r', 'schedule_task', { prompt: 'x', every: '1h' });
  assert.equal(scheduled.ok, false);
  // A chat group's turn working for another agent has no chat either (channel ''): nothing reaches the outbox.
  h.active.begin('turn-m', { group: 'main', channel: '', chatId: '', replyTo: '', sent: 0 });
  const fromTask = await h.dispatcher.handle('main', 'turn-m', 'send_message', { text: 'hi' });
  assert.equal(fromTask.ok, false);
  assert.match(fromTask.error!, /has no chat to send to/);
  const file = sendFileFromAgent(h.active, h.outbox, 'main', 'turn-m', { path: '/tmp/x.png', name: 'x.png', mime: 'image/png' } as never, 'look');
  assert.equal(file.ok, false);
  assert.match(file.error!, /has no chat to send a file to/);
  assert.deepEqual(h.outboxed, []);
});

test('complete_task and fail_task only for the task the caller\'s turn works on, and only once', async (t) => {
  const h = host(t);
  h.active.begin('turn-m', { group: 'main', channel: 'local', chatId: 'main', replyTo: '', sent: 0 });
  assert.equal((await h.dispatcher.handle('main', 'turn-m', 'hand_off', { to: 'researcher', title: 't', brief: 'b' })).ok, true);
  const task = h.store.claimNext('researcher')!;
  h.active.begin('turn-r', { group: 'researcher', channel: '', chatId: '', replyTo: '', sent: 0 });
  const early = await h.dispatcher.handle('researcher', 'turn-r', 'complete_task', { id: task.id, result: 'r' });
  assert.match(early.error!, /not working on a task/, 'not its turn\'s task');
  h.teamTurns.begin('turn-r', { group: 'researcher', chainId: task.chainId, taskId: task.id, paysChain: true, depth: task.depth, visited: task.visited, parentTask: task.id });
  const byMain = await h.dispatcher.handle('main', 'turn-m', 'complete_task', { id: task.id, result: 'forged' });
  assert.match(byMain.error!, /not working on a task/);
  assert.equal((await h.dispatcher.handle('researcher', 'turn-r', 'complete_task', { id: task.id, result: 'real result' })).ok, true);
  const again = await h.dispatcher.handle('researcher', 'turn-r', 'fail_task', { id: task.id, reason: 'x' });
  assert.match(again.error!, /already finished/);
  assert.deepEqual([h.store.get(task.id)?.state, h.store.get(task.id)?.result], ['done', 'real result']);
  assert.deepEqual(h.woken.at(-1), 'main', 'the sender is woken for the result');
});

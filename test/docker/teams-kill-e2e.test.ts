import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { Enclave } from '../../src/app.js';
import { sendViaControlSocket } from '../../src/control/control-client.js';
import { silentLogger } from '../../src/logger.js';
import { homeId, homePaths } from '../../src/paths.js';
import { startCliHost } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome } from '../helpers/harness.js';
import { lastUserMessageOf, toolCall } from '../helpers/model-messages.js';
import { waitFor } from '../helpers/wait.js';
import { FakeModel } from '../fakes/fake-model.js';

const skip = await dockerSkipReason();

const PRICES = 'prices:\n  main-model: { input: 1, output: 2 }\n  researcher-model: { input: 1, output: 2 }\n';
const ENCLAVE = `channels:\n  local:\n    streaming: { mode: off }\nteams:\n  household: { members: [main, researcher], maxDepth: 3, maxChainUsd: 0.5 }\n${PRICES}`;
const GROUPS = {
  main: 'chats: [local:main]\nrequireTrigger: false\nmodel: main-model\nteam:\n  handOffTo: [researcher]\n',
  researcher: 'chats: []\nmodel: researcher-model\nteam:\n  handOffTo: [main]\n',
};

interface ChainRow { id: string; spent: number; reserved: number; lim: number; state: string }
const CHAINS = 'SELECT id, spent_micros AS spent, reserved_micros AS reserved, limit_micros AS lim, state FROM team_chains';
const OPEN_RESERVATIONS = `SELECT r.group_name AS g, r.micros AS micros FROM ledger r WHERE r.kind = 'reserve' AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.kind = 'settle' AND s.reservation_id = r.reservation_id)`;

/** What the killed host left on disk, read beside it (WAL lets a reader in while it writes). */
function readKilledHostDb<T>(home: string, read: (db: Database.Database) => T): T {
  const db = new Database(homePaths(home).dbFile, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

test('a host killed (SIGKILL) while a worker\'s team task is in flight resumes the chain: the task runs again and completes once, its result reaches the chat once, no container of the killed host survives, the chain\'s reservation is charged', { skip }, async (t) => {
  const home = makeHome({ enclaveYaml: ENCLAVE, groups: GROUPS });
  const model = await FakeModel.start();
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home, OPENAI_API_KEY: 'sk-test-teamkill', OPENAI_BASE_URL: model.baseUrl };
  let app: Enclave | undefined;
  t.after(async () => {
    await app?.stop();
    await model.close();
    execFileSync('rm', ['-rf', home]);
  });

  model.pushFor('main-model', { toolCalls: [toolCall('hand_off', { to: 'researcher', title: 'Slow', brief: 'slow research' })] }, { content: 'Handed off.' });
  // The worker's first model call is held open until the host is killed; the run after the restart answers.
  model.pushFor('researcher-model', { content: 'too late', delayMs: 600_000 }, { content: 'Research done.' });
  model.pushFor('main-model', { content: 'Result: research done.' });

  const child = await startCliHost(env);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const first = await sendViaControlSocket(homePaths(home).controlSocket, { group: 'main', text: 'start the research' });
  assert.deepEqual(first.replies, ['Handed off.'], 'the sender answered at once');
  await waitFor('the worker\'s model call to be in flight', () => model.requestsFor('researcher-model').length === 1);

  const before = readKilledHostDb(home, (db) => ({
    tasks: db.prepare('SELECT id, state FROM team_tasks').all() as { id: number; state: string }[],
    chain: db.prepare(CHAINS).get() as ChainRow,
    open: db.prepare(OPEN_RESERVATIONS).all() as { g: string; micros: number }[],
  }));
  assert.equal(before.tasks.length, 1);
  assert.equal(before.tasks[0]!.state, 'running');
  assert.ok(before.chain.reserved > 0, 'the worker\'s call reserved on the chain before the kill');
  assert.deepEqual(before.open.map((r) => r.g), ['researcher'], 'one open reservation: the worker\'s call in flight');
  const oldContainers = (await new Docker().listContainers({ all: true, filters: { label: [`enclave.home=${homeId(home)}`] } })).map((c) => c.Id);
  assert.ok(oldContainers.length >= 1, 'the killed host had containers running');

  child.kill('SIGKILL');
  // Until its exit is seen, the killed host still holds its instance lock.
  await exited;

  app = await Enclave.start({ home, env, log: silentLogger() });
  const taskId = before.tasks[0]!.id;
  const said: string[] = [];
  const stop = app.local.subscribe((e) => {
    if (e.kind === 'message' && e.message.chatId === 'main') said.push(e.message.text);
  });
  t.after(stop);
  const sentToChat = () => (app!.db.prepare(`SELECT text FROM outbox WHERE chat_id = 'main' AND sent_at IS NOT NULL AND text = 'Result: research done.'`).all() as unknown[]).length;
  await waitFor('the result to reach the chat', () => sentToChat() === 1);
  await waitFor('the task to be reported to its sender', () => app!.teams.store.get(taskId)?.reported);
  await app.queue.idle();

  const task = app.teams.store.get(taskId)!;
  assert.deepEqual([task.state, task.result, task.reported], ['done', 'Research done.', true]);
  assert.equal(app.teams.store.list({ all: true }).length, 1, 'the restart made no second task');
  assert.equal(model.requestsFor('researcher-model').length, 2, 'the interrupted task ran again, once');
  const finished = app.audit.tail(200, { kind: 'team' }).filter((r) => r.detail.action === 'finished' && r.detail.task === taskId);
  assert.deepEqual(finished.map((r) => r.detail.state), ['done'], 'finished exactly once');
  const resultTurns = model.requestsFor('main-model').filter((r) => lastUserMessageOf(r).startsWith('[Results of work you handed to other agents'));
  assert.equal(resultTurns.length, 1, 'one results turn');
  assert.equal(sentToChat(), 1, 'the result was sent to the chat once');
  assert.deepEqual(said, ['Result: research done.'], 'and the chat heard only it after the restart');

  const running = (await new Docker().listContainers({ all: true, filters: { label: [`enclave.home=${homeId(home)}`] } })).map((c) => c.Id);
  assert.deepEqual(running.filter((id) => oldContainers.includes(id)), [], 'no container of the killed host is left');

  const after = app.db.prepare(CHAINS).get() as ChainRow;
  assert.equal(after.id, before.chain.id);
  assert.equal(after.reserved, 0, 'nothing stays reserved on the chain');
  assert.ok(after.spent >= before.chain.reserved, `the reservation left by the kill was charged (spent ${after.spent}, reserved before ${before.chain.reserved})`);
  assert.ok(after.spent <= after.lim, `the chain stayed within its limit (${after.spent} of ${after.lim})`);
  assert.deepEqual(app.db.prepare(OPEN_RESERVATIONS).all(), [], 'every reservation of the group budgets is settled');

  // A second restart runs nothing again.
  await app.stop();
  app = undefined;
  app = await Enclave.start({ home, env, log: silentLogger() });
  await app.queue.idle();
  assert.equal(model.requestsFor('researcher-model').length, 2);
  assert.equal(model.requestsFor('main-model').length, 3);
  assert.equal((app.db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE chat_id = 'main' AND text = 'Result: research done.'`).get() as { n: number }).n, 1);
});

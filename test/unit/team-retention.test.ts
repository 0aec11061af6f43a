import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { TEAM_TASK_RETENTION_DAYS } from '../../src/teams/task-limits.js';
import { TeamTaskStore, type NewTeamTask } from '../../src/teams/team-store.js';
import { ManualTime } from '../helpers/manual-time.js';
import { teamHost } from '../helpers/team-host.js';

const DAY = 24 * 60 * 60 * 1000;

function task(chainId: string, over: Partial<NewTeamTask> = {}): NewTeamTask {
  return { chainId, team: 'home', kind: 'hand_off', from: 'main', to: 'researcher', parentTask: null, fromTurn: 't1', depth: 1, visited: ['main', 'researcher'], title: 'T', brief: 'B', ...over };
}

test(`finished, reported tasks and their chains are pruned ${TEAM_TASK_RETENTION_DAYS} days after they finished; open work and unreported outcomes are kept`, () => {
  const db = openDatabase(':memory:');
  const time = new ManualTime();
  const store = new TeamTaskStore(db, time.clock);
  const old = store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  const done = store.create(task(old.id));
  store.finish(done.id, 'done', 'r');
  store.markReported(done.id);
  const kept = store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  const open = store.create(task(kept.id));
  const unreported = store.create(task(kept.id));
  store.finish(unreported.id, 'failed', 'x');
  const recent = store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  time.advance((TEAM_TASK_RETENTION_DAYS - 1) * DAY);
  const fresh = store.create(task(recent.id));
  store.finish(fresh.id, 'cancelled', 'c');
  store.markReported(fresh.id);

  time.advance(2 * DAY);
  assert.deepEqual(store.pruneIfDue(), { tasks: 1, chains: 1 });
  assert.equal(store.get(done.id), undefined);
  assert.equal(store.chain(old.id), undefined);
  assert.deepEqual([store.get(open.id)?.state, store.get(unreported.id)?.state, store.get(fresh.id)?.state], ['queued', 'failed', 'cancelled']);
  assert.ok(store.chain(kept.id) && store.chain(recent.id), 'chains with tasks left stay');

  // At most once a day; creating a chain is what runs it while the host is up.
  store.finish(open.id, 'done', 'r');
  store.markReported(open.id);
  store.markReported(unreported.id);
  time.advance((TEAM_TASK_RETENTION_DAYS + 1) * DAY);
  store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  assert.deepEqual([store.get(open.id), store.get(unreported.id), store.get(fresh.id), store.chain(kept.id), store.chain(recent.id)], [undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual(store.pruneIfDue(), { tasks: 0, chains: 0 }, 'not again within the day');
});

test('a chain with an open reservation is kept even when its tasks are gone', () => {
  const db = openDatabase(':memory:');
  const time = new ManualTime();
  const store = new TeamTaskStore(db, time.clock);
  const chain = store.createChain({ team: 'home', originGroup: 'main', limitMicros: 100 });
  db.prepare('UPDATE team_chains SET reserved_micros = 5 WHERE id = ?').run(chain.id);
  time.advance((TEAM_TASK_RETENTION_DAYS + 1) * DAY);
  assert.deepEqual(store.prune(time.clock() - TEAM_TASK_RETENTION_DAYS * DAY), { tasks: 0, chains: 0 });
});

test('the host prunes old team work when it starts', async (t) => {
  const time = new ManualTime();
  const h = teamHost(t, { enclaveYaml: 'teams:\n  home: { members: [main, researcher] }\n', groups: { main: 'chats: [local:main]\nteam: { handOffTo: [researcher] }\n', researcher: 'chats: []\n' }, clock: time.clock });
  const chain = h.teams.store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  const t1 = h.teams.store.create(task(chain.id));
  h.teams.store.finish(t1.id, 'done', 'r');
  h.teams.store.markReported(t1.id);
  time.advance((TEAM_TASK_RETENTION_DAYS + 1) * DAY);
  assert.deepEqual(h.teams.resume(), []);
  assert.equal(h.teams.store.get(t1.id), undefined);
  assert.equal(h.teams.store.chain(chain.id), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { TeamTaskStore, type NewTeamTask } from '../../src/teams/team-store.js';
import { ManualTime } from '../helpers/manual-time.js';

function task(chainId: string, over: Partial<NewTeamTask> = {}): NewTeamTask {
  return { chainId, team: 'home', kind: 'ask', from: 'main', to: 'researcher', parentTask: null, fromTurn: 't1', depth: 1, visited: ['main', 'researcher'], title: 'T', brief: 'B', ...over };
}

test('after a stop, asks still waited on are dropped (their askers run again and ask anew); timed-out asks and hand-offs resume', () => {
  const db = openDatabase(':memory:');
  const time = new ManualTime();
  const store = new TeamTaskStore(db, time.clock);
  const chain = store.createChain({ team: 'home', originGroup: 'main', limitMicros: 1 });
  const waited = store.create(task(chain.id));
  assert.equal(store.claimNext('researcher')?.id, waited.id, 'the asked agent was working on it when the host stopped');
  const nested = store.create(task(chain.id, { from: 'researcher', to: 'planner', depth: 2, visited: ['main', 'researcher', 'planner'] }));
  const timedOut = store.create(task(chain.id, { to: 'planner' }));
  store.detach(timedOut.id);
  const handOff = store.create(task(chain.id, { kind: 'hand_off', to: 'planner' }));
  const answeredUnreported = store.create(task(chain.id));
  store.finish(answeredUnreported.id, 'done', 'an answer its asker never read');

  assert.equal(store.dropWaitedAsks(), 3);
  assert.deepEqual([waited, nested, answeredUnreported].map((t) => [store.get(t.id)?.state, store.get(t.id)?.reported]), [['cancelled', true], ['cancelled', true], ['done', true]]);
  assert.match(store.get(waited.id)!.error ?? '', /interrupted by a restart/);
  assert.deepEqual([store.get(timedOut.id)?.state, store.get(handOff.id)?.state], ['queued', 'queued'], 'a timed-out ask\'s late answer was promised; a hand-off is durable');
  assert.deepEqual(store.requeueInterrupted().sort(), ['planner'], 'no results turn for the dropped asks');
});

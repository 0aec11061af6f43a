import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { BoardStore } from '../../src/teams/board-store.js';
import { ManualTime } from '../helpers/manual-time.js';

test('a board entry with a TTL is gone for readers once it expires; reads never write, the next write sweeps it', () => {
  const db = openDatabase(':memory:');
  const time = new ManualTime();
  const board = new BoardStore(db, time.clock);
  const rows = () => (db.prepare('SELECT COUNT(*) AS n FROM team_board').get() as { n: number }).n;
  assert.equal(board.write('trip', 'trip/hotel', 'A', 'agent:researcher', undefined, 60).ok, true);
  assert.equal(board.write('trip', 'trip/plan', 'B', 'agent:planner').ok, true);
  time.advance(59_000);
  assert.deepEqual(board.read('trip', 'trip/').map((e) => e.key), ['trip/hotel', 'trip/plan']);

  time.advance(1_000);
  assert.deepEqual(board.read('trip', 'trip/hotel'), []);
  assert.deepEqual(board.read('trip', 'trip/').map((e) => e.key), ['trip/plan']);
  assert.deepEqual(board.readAll('trip').map((e) => e.key), ['trip/plan']);
  assert.equal(rows(), 2, 'reading wrote nothing');

  const again = board.write('trip', 'trip/hotel', 'C', 'agent:researcher', 0);
  assert.equal(again.ok && again.entry.version, 1, 'an expired key counts as absent: version 0 is expected, the new one is 1');
  assert.equal(rows(), 2);
});

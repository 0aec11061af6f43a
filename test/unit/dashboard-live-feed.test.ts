import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveFeed, STREAMS_IN_ALL, STREAMS_PER_SESSION } from '../../src/dashboard/live-feed.js';

test('one poll computes the overview once for every open stream, and sends only changes', (t) => {
  let computed = 0;
  let value = 'a';
  const feed = new LiveFeed(() => (computed++, value), 60_000);
  t.after(() => feed.close());
  const got: string[][] = [[], [], []];
  const unsubscribe = got.map((list) => feed.subscribe((data) => void list.push(data)));
  assert.equal(computed, 1, 'the first stream computed it; the others got the same answer');
  feed.tick();
  assert.equal(computed, 2);
  value = 'b';
  feed.tick();
  assert.equal(computed, 3, 'once per tick, not once per stream');
  assert.deepEqual(got, [['a', 'b'], ['a', 'b'], ['a', 'b']]);
  unsubscribe.forEach((u) => u());
  feed.tick();
  assert.equal(computed, 3, 'nothing is computed with no stream open');
});

test('streams are admitted up to four per session and sixteen in all, and released', () => {
  const feed = new LiveFeed(() => '', 60_000);
  for (let i = 0; i < STREAMS_PER_SESSION; i++) assert.equal(feed.admit('s1'), true);
  assert.equal(feed.admit('s1'), false);
  feed.leave('s1');
  assert.equal(feed.admit('s1'), true);
  for (let s = 2; s <= STREAMS_IN_ALL / STREAMS_PER_SESSION; s++) for (let i = 0; i < STREAMS_PER_SESSION; i++) assert.equal(feed.admit(`s${s}`), true);
  assert.equal(feed.admit('s9'), false);
});

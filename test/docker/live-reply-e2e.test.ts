import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LocalEvent } from '../../channels/local/local-channel.js';
import { liveReplyEvents, type FirstTextEvent } from '../../src/core/live-reply-events.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

test('a real container streams a slow answer: the local chat shows it piece by piece before the model is done, and ends with the stored reply', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());
  const events: LocalEvent[] = [];
  const unsubscribe = h.app.local.subscribe((e) => void events.push(e));
  t.after(unsubscribe);
  const firsts: FirstTextEvent[] = [];
  const onFirst = (e: FirstTextEvent) => void firsts.push(e);
  liveReplyEvents.on('first-text', onFirst);
  t.after(() => liveReplyEvents.off('first-text', onFirst));

  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const answer = 'Streaming works: the first words show long before the last ones arrive.';
  h.model.push({ content: answer, pieces: ['Streaming works: ', 'the first words show ', 'long before the last ones arrive.'], holdAfterFirstChunk: held, chunkDelayMs: 20 });
  const asked = h.say('main', 'stream please');

  const first = await waitFor('the first live piece', () => events.find((e) => e.kind === 'live'));
  assert.equal(first.kind === 'live' && first.text, 'Streaming works: ', 'the first piece is shown while the model still holds the rest');
  assert.equal(firsts.length, 1, 'the host announced the first visible text once');
  assert.equal(firsts[0]!.channel, 'local');
  release();

  const r = await asked;
  assert.equal(r.outcome, 'answered');
  assert.deepEqual(r.replies, [answer], 'the final text of the message is the reply');
  const live = events.filter((e) => e.kind === 'live');
  assert.ok(live.length >= 2, `${live.length} live pieces`);
  assert.equal(live.map((e) => (e.kind === 'live' ? e.delta : '')).join(''), answer, 'the pieces, in order, are the answer');
  const stored = h.app.db.prepare("SELECT text FROM outbox WHERE dedupe_key LIKE 'turn:%' ORDER BY id DESC LIMIT 1").get() as { text: string };
  assert.equal(stored.text, answer);
  const request = h.model.requests.at(-1)!;
  assert.equal(request.body.stream, true, 'the runner asked for a stream');
  assert.deepEqual(request.body.stream_options, { include_usage: true }, 'with usage, so the ledger settles real tokens');
});

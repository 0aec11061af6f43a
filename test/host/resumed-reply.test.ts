import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resumedReply } from '../../src/core/replies.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { waitFor } from '../helpers/wait.js';

test('an answer to a message from before a restart quotes the start of the question; later answers do not', async (t) => {
  const h = await startHarness({ start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  h.model.push({ content: 'too late', delayMs: 60_000 });
  void h.say('main', 'are you there?\nI asked   about the weather in Lisbon tomorrow, and also whether I need an umbrella for the walk').catch(() => undefined);
  await waitFor('the first model call', () => h.model.requests.length === 1);

  h.model.push({ content: 'Yes, I am here.' });
  await h.restart();
  const sent = () => h.app.db.prepare(`SELECT text FROM outbox WHERE chat_id = 'main' AND sent_at IS NOT NULL ORDER BY id`).all() as { text: string }[];
  await waitFor('the interrupted message to be answered', () => sent().length === 1);
  assert.equal(
    sent()[0]!.text,
    '(Answering your message from before the restart: "are you there? I asked about the weather in Lisbon tomorrow, and also whether I…")\n\nYes, I am here.',
  );

  h.model.push({ content: 'fresh answer' });
  assert.deepEqual((await h.say('main', 'and now?')).replies, ['fresh answer'], 'a message of this run is answered plainly');
});

test('a short question is quoted whole', () => {
  assert.equal(resumedReply('hi', 'hello'), '(Answering your message from before the restart: "hi")\n\nhello');
});

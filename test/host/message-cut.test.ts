import assert from 'node:assert/strict';
import { test } from 'node:test';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';

test('a message cut at maxMessageChars: the sender is told how much was cut, the agent sees the kept part and the notice', async (t) => {
  const h = await startHarness({ enclaveYaml: 'maxMessageChars: 100\n', start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  h.model.push({ content: 'answer about the kept part' });
  const r = await h.say('main', 'x'.repeat(250));
  assert.deepEqual(r.replies, [
    'Your message was 250 characters long, so I read only the first 100 (the last 150 were cut; the limit is maxMessageChars in enclave.yaml). Send the rest in another message if I need it.',
    'answer about the kept part',
  ]);
  const seen = (h.model.requests.at(-1)!.body.messages as { role: string; content: string }[]).at(-1)!.content;
  assert.ok(seen.startsWith('x'.repeat(100)) && !seen.startsWith('x'.repeat(101)), 'the agent got the first 100 characters');
  assert.match(seen, /this message was 250 characters long; only the first 100 were kept/);

  h.model.push({ content: 'short answer' });
  assert.deepEqual((await h.say('main', 'short')).replies, ['short answer'], 'no notice for a message within the limit');
});

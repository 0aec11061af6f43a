import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runTerminalChat } from '../../channels/local/terminal.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { waitFor } from '../helpers/wait.js';

function userTexts(h: { model: { requests: { body: Record<string, unknown> }[] } }): string[] {
  return h.model.requests.map((r) => (r.body.messages as { role: string; content: string }[]).at(-1)!.content);
}

test('a multi-line paste at the prompt is one message and one answer; lines typed one by one stay separate', async (t) => {
  const h = await startHarness({ start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (c: Buffer) => (shown += c.toString()));
  const flushes: (() => void)[] = [];
  const close = runTerminalChat(h.app.local, { chatId: 'main', assistantName: 'Enclave', input, output, onClose: () => undefined, schedulePaste: (flush) => flushes.push(flush) });
  t.after(close);

  h.model.fallback = (req) => ({ content: `answer ${(req.body.messages as unknown[]).length}` });
  input.write('Please review:\n  def f(x):\n      return x\n\nThanks\n');
  await waitFor('the pasted lines to be read', () => flushes.length === 1);
  assert.equal(h.model.requests.length, 0, 'nothing is sent while the burst may go on');
  flushes.shift()!();
  await waitFor('one answer', () => (shown.match(/enclave> answer/g) ?? []).length === 1);
  assert.deepEqual(userTexts(h), ['Please review:\n  def f(x):\n      return x\n\nThanks'], 'one message, inner lines and indentation kept');

  input.write('first\n');
  await waitFor('the first typed line', () => flushes.length === 1);
  flushes.shift()!();
  await waitFor('its answer', () => (shown.match(/enclave> answer/g) ?? []).length === 2);
  input.write('second\n');
  await waitFor('the second typed line', () => flushes.length === 1);
  flushes.shift()!();
  await waitFor('its answer', () => (shown.match(/enclave> answer/g) ?? []).length === 3);
  assert.deepEqual(userTexts(h).slice(1), ['first', 'second']);
});

test('piped input (not a terminal) keeps one message per line', async (t) => {
  const h = await startHarness({ start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const close = runTerminalChat(h.app.local, { chatId: 'main', assistantName: 'Enclave', input, output, onClose: () => undefined });
  t.after(close);
  input.write('one\n');
  await waitFor('the first line to be answered', () => h.model.requests.length === 1);
  input.write('two\n');
  await waitFor('the second line to be answered', () => h.model.requests.length === 2);
  assert.deepEqual(userTexts(h), ['one', 'two']);
});

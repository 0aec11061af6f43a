import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LiveReplyOptions } from '../../channels/channel.js';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { ALICE, FakeTelegram } from '../fakes/fake-telegram.js';
import { ManualTime } from '../helpers/manual-time.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { waitFor } from '../helpers/wait.js';

const CHAT = String(ALICE.id);

async function start(t: TestContext) {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const state = new Map<string, string>();
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: fake.apiRoot, rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 5 } });
  const channel = new TelegramChannel(config, { token: fake.token }, { log: silentLogger(), state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' });
  const db = openDatabase(':memory:');
  const outbox = new Outbox(db, new Map([['telegram', channel]]), silentLogger());
  t.after(() => outbox.close());
  const time = new ManualTime();
  const timers = new ManualTimers();
  const posted: string[] = [];
  let visible = 0;
  const options: LiveReplyOptions = {
    mode: 'edit',
    editIntervalMs: 1000,
    minBlockChars: 50,
    progress: true,
    clock: time.clock,
    timers,
    log: silentLogger(),
    onPosted: (id) => posted.push(id),
    onVisible: () => visible++,
  };
  return { fake, channel, outbox, time, timers, options, posted, visible: () => visible };
}

/** Fires the display's pending timer and waits until the fake saw `calls` API calls of the kind. */
async function tick(timers: ManualTimers, until: () => boolean): Promise<void> {
  timers.fireAll();
  await waitFor('the live reply to reach the fake Telegram', () => until() || undefined);
}

test('an answer written live is one Telegram message edited in order, then edited by the outbox into exactly the stored reply', async (t) => {
  const { fake, channel, outbox, time, timers, options, posted, visible } = await start(t);
  const display = channel.startLiveReply({ chatId: CHAT, replyTo: '7' }, options);

  display.progress('searching the web…');
  await tick(timers, () => fake.sent.length === 1);
  assert.equal(fake.sent[0]!.text, '(searching the web…)');
  assert.equal(visible(), 0, 'a progress line is not the answer');

  display.show('Hello');
  time.advance(1000);
  await tick(timers, () => fake.edits.length === 1);
  display.show('Hello, here is');
  display.show('Hello, here is the plan:');
  assert.equal(timers.waiting, 1, 'growth between two edits waits for one timer');
  time.advance(1000);
  await tick(timers, () => fake.edits.length === 2);
  assert.deepEqual(fake.edits.map((e) => e.text), ['Hello', 'Hello, here is the plan:'], 'the edits arrive in order; the ones in between are skipped');
  assert.equal(visible(), 1);

  const shown = await display.close();
  assert.deepEqual(shown, { mode: 'edit', messageIds: posted });
  const reply = 'Hello, here is the plan:\n\n```sh\nmake all\n```\nDone.';
  outbox.add({ group: 'g', channel: 'telegram', chatId: CHAT, text: reply, dedupeKey: 'turn:1', live: { edit: shown.messageIds } });
  await outbox.flush();
  assert.equal(fake.sent.length, 1, 'the outbox edited the live message instead of sending the answer again');
  assert.equal(fake.current.get(Number(posted[0])), 'Hello, here is the plan:\n\nmake all\nDone.', 'the message reads as the stored reply ');
  assert.match(fake.callsTo('editMessageText').at(-1)!.params.text as string, /<pre><code class="language-sh">make all<\/code><\/pre>/, 'the code block is intact');
});

test('a 429 on an edit is honoured: the next edit waits as long as Telegram asked (injected clock), then goes through', async (t) => {
  const { fake, channel, time, timers, options } = await start(t);
  const display = channel.startLiveReply({ chatId: CHAT }, options);
  display.show('one');
  await tick(timers, () => fake.sent.length === 1);
  fake.failNextEdits({ error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
  display.show('one two');
  time.advance(1000);
  await tick(timers, () => fake.callsTo('editMessageText').length === 1);
  // Only the 429's handling arms a timer here (the fired one is gone), however late the answers come.
  await waitFor('the display to schedule its next try', () => timers.waiting === 1 || undefined);
  assert.equal(timers.delays.at(-1), 7000, 'the next try waits the retry_after Telegram gave');
  time.advance(7000);
  await tick(timers, () => fake.edits.length === 1);
  assert.equal(fake.current.get(fake.sent[0]!.message_id), 'one two');
  await display.close();
});

test('a 429 that answers after the next edit was already timed still holds that edit back for retry_after', async (t) => {
  const { fake, channel, time, timers, options } = await start(t);
  const display = channel.startLiveReply({ chatId: CHAT }, options);
  display.show('one');
  await tick(timers, () => fake.sent.length === 1);
  const release = fake.holdNextEditAnswer();
  fake.failNextEdits({ error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
  display.show('one two');
  time.advance(1000);
  await tick(timers, () => fake.callsTo('editMessageText').length === 1);
  // The answer to that edit is held: the next edit is timed (one interval) and its timer fires first.
  display.show('one two three');
  assert.equal(timers.waiting, 1);
  time.advance(1000);
  timers.fireAll();
  release();
  await waitFor('the display to time its retry', () => timers.waiting === 1 || undefined);
  assert.equal(timers.delays.at(-1), 7000, 'the retry waits the retry_after Telegram gave, from when it answered');
  await display.close();
  assert.equal(fake.callsTo('editMessageText').length, 1, 'no edit went out before retry_after was over');
});

test('an answer past 4096 characters goes on in a new message, in order, each within the limit', async (t) => {
  const { fake, channel, outbox, time, timers, options, posted } = await start(t);
  const display = channel.startLiveReply({ chatId: CHAT }, options);
  const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(20).trim()}.`);
  let text = '';
  for (const p of paragraphs) {
    text += (text ? '\n\n' : '') + p;
    display.show(text);
    time.advance(1000);
    timers.fireAll();
    await waitFor('the update', () => timers.waiting === 0 || undefined).catch(() => undefined);
  }
  await waitFor('two live messages', () => posted.length >= 2 || undefined);
  const shown = await display.close();
  outbox.add({ group: 'g', channel: 'telegram', chatId: CHAT, text, dedupeKey: 'turn:2', live: shown.mode === 'edit' ? { edit: shown.messageIds } : undefined });
  await outbox.flush();
  const messages = fake.sent.map((m) => fake.current.get(m.message_id)!);
  assert.ok(messages.length >= 2);
  for (const m of messages) assert.ok(m.length <= 4096);
  assert.equal(messages.join('\n\n'), text, 'the messages, in order, are the whole reply');
});

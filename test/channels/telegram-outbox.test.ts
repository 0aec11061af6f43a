import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { Outbox, type OutboxOptions } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { ALICE, FakeTelegram, visibleText } from '../fakes/fake-telegram.js';
import { ManualTime } from '../helpers/manual-time.js';

const CHAT = String(ALICE.id);

/** A real Outbox on an in-memory database, delivering to a TelegramChannel on the fake Bot API. */
async function start(t: TestContext, outboxOptions: OutboxOptions = {}) {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const state = new Map<string, string>();
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: fake.apiRoot, rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 5 } });
  const channel = new TelegramChannel(config, { token: fake.token }, { log: silentLogger(), state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' });
  const db = openDatabase(':memory:');
  const outbox = new Outbox(db, new Map([['telegram', channel]]), silentLogger(), outboxOptions);
  t.after(() => outbox.close());
  return { fake, channel, outbox, db };
}

function paragraph(n: number): string {
  return `Paragraph ${n}: ${'the quick brown fox jumps over the lazy dog & keeps <going> '.repeat(6).trim()}.`;
}

const CODE_LINES = Array.from({ length: 40 }, (_, i) => `const step${i} = compute(${i}) < limit && ready; // line ${i}`);

/** About 9,000 characters: prose, then a ~2,500 character code block that a cut at 4096 would split, then more prose. */
function longReply(): string {
  const before = Array.from({ length: 9 }, (_, i) => paragraph(i + 1));
  const after = Array.from({ length: 14 }, (_, i) => paragraph(i + 10));
  return [...before, '```ts\n' + CODE_LINES.join('\n') + '\n```', ...after].join('\n\n');
}

/** The text a reader sees, whitespace collapsed (the cuts drop the blank lines they fall on). */
function readable(text: string): string {
  return text.replace(/```\w*\n?/g, '').replace(/\s+/g, ' ').trim();
}

test('a reply over 4096 characters reaches Telegram through the outbox as ordered chunks, the code block whole', async (t) => {
  const { fake, channel, outbox } = await start(t);
  const text = longReply();
  assert.ok(text.length > 2 * channel.maxMessageLength, `the reply is ${text.length} characters`);
  const codeStart = text.indexOf('```');
  assert.ok(codeStart < channel.maxMessageLength && text.indexOf('```', codeStart + 3) > channel.maxMessageLength, 'a cut at the limit would fall inside the code block');

  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text, replyTo: '42', dedupeKey: 'turn-1' });
  await outbox.flush();

  assert.equal(outbox.unsentCount(), 0);
  const sent = fake.sent;
  assert.ok(sent.length >= 3, `${sent.length} messages`);
  assert.deepEqual(fake.callsTo('sendMessage').length, sent.length, 'every chunk was accepted at the first try');
  const visible = sent.map((m) => visibleText(m.text));
  for (const [i, v] of visible.entries()) assert.ok(v.length <= 4096, `chunk ${i + 1} has ${v.length} characters`);
  assert.ok(sent.every((m) => m.chatId === CHAT && m.parseMode === 'HTML' && m.replyTo === 42));
  assert.equal(readable(visible.join('\n')), readable(text), 'the chunks, in order, are the whole reply');

  const withCode = sent.filter((m) => m.text.includes('<pre>'));
  assert.equal(withCode.length, 1, 'the code block is in one message');
  const code = visibleText(withCode[0]!.text);
  assert.ok(CODE_LINES.every((line) => code.includes(line)), 'with every line');
  assert.ok(sent.every((m) => !m.text.includes('```')), 'no fence was left open by a cut');
});

test('a chunk Telegram refuses for good is given up at once, not retried', async (t) => {
  const { fake, outbox } = await start(t);
  fake.failNextSends({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text: 'nobody will read this', dedupeKey: 'turn-2' });
  await outbox.flush();
  assert.equal(fake.callsTo('sendMessage').length, 1);
  assert.equal(fake.sent.length, 0);
  assert.equal(outbox.unsentCount(), 0, 'the reply is no longer waiting');
});

const BAD_GATEWAY = { error_code: 502, description: 'Bad Gateway' };

test('one retry policy: a Bot API that fails twice, then answers, gets exactly 3 posts', async (t) => {
  const time = new ManualTime();
  const { fake, outbox } = await start(t, { clock: time.clock, wait: time.wait, retryDelayMs: 500 });
  fake.failNextSends(BAD_GATEWAY, BAD_GATEWAY);
  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text: 'third time lucky', dedupeKey: 'turn-3' });
  await outbox.flush();
  assert.equal(fake.callsTo('sendMessage').length, 3);
  assert.deepEqual(fake.sent.map((m) => m.text), ['third time lucky']);
  assert.deepEqual(time.waits, [500, 1000], 'the outbox backed off between its attempts');
  assert.equal(outbox.unsentCount(), 0);
});

test('a Bot API that keeps failing gets the outbox\'s attempts per round, not attempts times the adapter\'s', async (t) => {
  const time = new ManualTime();
  const { fake, outbox, db } = await start(t, { clock: time.clock, wait: time.wait, sendAttempts: 3, retryLaterMs: 60_000 });
  fake.failNextSends(...Array.from({ length: 20 }, () => BAD_GATEWAY));
  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text: 'not yet', dedupeKey: 'turn-4' });
  await outbox.flush();
  assert.equal(fake.callsTo('sendMessage').length, 3, 'three posts, where adapter and outbox retries together made twelve');
  assert.equal(outbox.unsentCount(), 1, 'kept for a later round');
  const row = db.prepare("SELECT last_error FROM outbox WHERE dedupe_key = 'turn-4'").get() as { last_error: string };
  assert.match(row.last_error, /502/);
});

test('a 429 with retry_after is waited out by the outbox for as long as Telegram asked, then sent once', async (t) => {
  const time = new ManualTime();
  const { fake, outbox } = await start(t, { clock: time.clock, wait: time.wait, retryDelayMs: 500 });
  fake.rateLimitNextSend(4);
  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text: 'patience', dedupeKey: 'turn-5' });
  await outbox.flush();
  assert.deepEqual(time.waits, [4000], "Telegram's retry_after, not the outbox's own backoff");
  assert.equal(fake.callsTo('sendMessage').length, 2);
  assert.deepEqual(fake.sent.map((m) => m.text), ['patience']);
});

test('a retry_after beyond the cap pauses the chat instead of holding a delivery round', async (t) => {
  const time = new ManualTime();
  const { fake, outbox } = await start(t, { clock: time.clock, wait: time.wait, maxRetryAfterMs: 60_000, retryLaterMs: 60_000 });
  fake.rateLimitNextSend(600);
  outbox.add({ group: 'team', channel: 'telegram', chatId: CHAT, text: 'much later', dedupeKey: 'turn-6' });
  await outbox.flush();
  assert.deepEqual(time.waits, [], 'nothing waited ten minutes inside the round');
  assert.equal(fake.callsTo('sendMessage').length, 1);
  time.advance(599_000);
  await outbox.flush();
  assert.equal(fake.callsTo('sendMessage').length, 1, 'the chat stays paused until Telegram said');
  time.advance(1_000);
  await outbox.flush();
  assert.deepEqual(fake.sent.map((m) => m.text), ['much later']);
});

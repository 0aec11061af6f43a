import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { ALICE, FakeTelegram, visibleText } from '../fakes/fake-telegram.js';

const CHAT = String(ALICE.id);

/** A real Outbox on an in-memory database, delivering to a TelegramChannel on the fake Bot API. */
async function start(t: TestContext) {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const state = new Map<string, string>();
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: fake.apiRoot, rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 5 } });
  const channel = new TelegramChannel(config, { token: fake.token }, { log: silentLogger(), state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' });
  const outbox = new Outbox(openDatabase(':memory:'), new Map([['telegram', channel]]), silentLogger());
  t.after(() => outbox.close());
  return { fake, channel, outbox };
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

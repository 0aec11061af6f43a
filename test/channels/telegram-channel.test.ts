import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { PermanentSendError, RetryAfterError, type ChannelStateStore, type InboundMessage, type InboundReceipt } from '../../channels/channel.js';
import { telegramConfigSchema, type TelegramSecrets } from '../../channels/telegram/config.js';
import { markdownToTelegramHtml } from '../../channels/telegram/format.js';
import { OFFSET_KEY, TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { channelStateStore } from '../../src/db/channel-state-store.js';
import { openDatabase } from '../../src/db/database.js';
import { ALICE, FakeTelegram, type FakeChat } from '../fakes/fake-telegram.js';
import { ManualTime } from '../helpers/manual-time.js';
import { waitFor } from '../helpers/wait.js';

const DM: FakeChat = { id: ALICE.id, type: 'private', first_name: 'Alice' };
const TEAM: FakeChat = { id: -1001234, type: 'supergroup', title: 'Team' };
const BOB = { id: 4202, is_bot: false, first_name: 'Bob', last_name: 'Builder' };
/** The host's command list as the host passes it; the adapter adds only /ask. */
const HOST_COMMANDS = [
  { name: 'status', description: 'Model, container, queue and channel health' },
  { name: 'tasks', description: "This group's scheduled tasks" },
  { name: 'not-a-telegram-name', description: 'Telegram allows only a-z, 0-9 and _' },
  { name: 'help', description: 'What the commands do' },
];

interface Harness {
  fake: FakeTelegram;
  channel: TelegramChannel;
  received: InboundMessage[];
  logs: { level: number; msg: string }[];
  state: ChannelStateStore;
}

function memoryState(): ChannelStateStore {
  const map = new Map<string, string>();
  return { get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

/** A TelegramChannel on the fake, driven through channels.telegram.apiRoot like production. */
async function start(
  t: TestContext,
  opts: { config?: Record<string, unknown>; secrets?: Partial<TelegramSecrets>; state?: ChannelStateStore; fake?: FakeTelegram; connect?: boolean; onMessage?: (m: InboundMessage) => Promise<void>; time?: ManualTime } = {},
): Promise<Harness> {
  const fake = opts.fake ?? (await FakeTelegram.start());
  if (!opts.fake) t.after(() => fake.close());
  const logs: Harness['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: number; msg: string }) });
  const config = telegramConfigSchema.parse({
    enabled: true,
    apiRoot: fake.apiRoot,
    reconnect: { baseMs: 5, maxMs: 20 },
    rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 5 },
    ...opts.config,
  });
  const state = opts.state ?? memoryState();
  const channel = new TelegramChannel(config, { token: fake.token, ...opts.secrets }, { log, state, assistantName: 'Enclave', commands: HOST_COMMANDS, clock: opts.time?.clock }, { wait: opts.time?.wait });
  const received: InboundMessage[] = [];
  const handler = async (m: InboundMessage): Promise<InboundReceipt> => {
    received.push(m);
    await opts.onMessage?.(m);
    return { status: 'queued', settled: Promise.resolve('none') };
  };
  if (opts.connect !== false) await channel.connect(handler);
  t.after(() => channel.disconnect());
  return { fake, channel, received, logs, state };
}

test('markdown becomes Telegram HTML with everything else escaped', () => {
  assert.equal(markdownToTelegramHtml('**Done**: run `a<b && c`, see [docs](https://x.dev/?a=1&b=2) <tag> & more'),
    '<b>Done</b>: run <code>a&lt;b &amp;&amp; c</code>, see <a href="https://x.dev/?a=1&amp;b=2">docs</a> &lt;tag&gt; &amp; more');
  assert.equal(markdownToTelegramHtml('# Plan\n```ts\nif (a < b) x = "**not bold**";\n```\nok'),
    '<b>Plan</b>\n<pre><code class="language-ts">if (a &lt; b) x = &quot;**not bold**&quot;;</code></pre>\nok');
  assert.equal(markdownToTelegramHtml('2 * 3 ** 4 and a lone ``` fence'), '2 * 3 ** 4 and a lone ``` fence');
});

test('config: off by default, token by secret name, apiRoot without a trailing slash, webhook mode needs its section', () => {
  const defaults = telegramConfigSchema.parse({});
  assert.equal(defaults.enabled, false);
  assert.equal(defaults.tokenSecret, 'TELEGRAM_BOT_TOKEN');
  assert.equal(defaults.apiRoot, 'https://api.telegram.org');
  assert.equal(defaults.mode, 'polling');
  assert.equal(telegramConfigSchema.parse({ apiRoot: 'http://127.0.0.1:8081/' }).apiRoot, 'http://127.0.0.1:8081');
  assert.equal(telegramConfigSchema.safeParse({ mode: 'webhook' }).success, false);
  assert.equal(telegramConfigSchema.safeParse({ token: 'inline tokens are not accepted' }).success, false);
});

test('connect checks the token, turns off any webhook and registers the host\'s command menu', async (t) => {
  const { fake, channel } = await start(t);
  assert.deepEqual(fake.calls.slice(0, 3).map((c) => c.method), ['getMe', 'deleteWebhook', 'setMyCommands']);
  assert.deepEqual(fake.commands?.map((c) => c.command), ['ask', 'status', 'tasks', 'help'], '/ask, then the host\'s commands Telegram can list');
  assert.ok(fake.commands?.every((c) => c.description.length > 0));
  const health = channel.health();
  assert.equal(health.connected, true);
  assert.equal(health.error, undefined);
  assert.equal(health.reconnects, 0);
});

test('direct and group messages, mentions, replies to the bot and captions are normalised', async (t) => {
  const { fake, received } = await start(t);
  const me = fake.bot;
  const dm = fake.pushMessage({ chat: DM, text: 'hello there' });
  fake.pushMessage({ chat: TEAM, from: BOB, text: 'just chatting' });
  fake.pushMessage({ chat: TEAM, from: BOB, text: '@Enclave_Test_Bot, what is the plan? cc @alice' });
  const botReply = { message_id: 9, date: 1, chat: TEAM, from: me, text: 'an earlier answer' };
  const reply = fake.pushMessage({ chat: TEAM, from: BOB, text: 'and then?', reply_to_message: botReply });
  fake.pushMessage({ chat: TEAM, from: BOB, text: 'Enclave please look', entities: [{ type: 'text_mention', offset: 0, length: 7, user: me }] });
  fake.pushMessage({ chat: TEAM, from: BOB, sticker: { file_id: 'x' } });
  fake.pushMessage({ chat: TEAM, from: BOB, photo: [{ file_id: 'p' }], caption: 'what is this @enclave_test_bot' });
  fake.pushMessage({ chat: TEAM, from: { id: 99, is_bot: true, first_name: 'Other', username: 'other_bot' }, text: 'beep' });

  const all = await waitFor('8 messages', () => received.length >= 8 && received);
  assert.equal(all.length, 8, 'a sticker without a caption is handed on too (the router decides whether it is answered)');
  const [direct, plain, mention, replied, textMention, sticker, caption, bot] = all as [InboundMessage, ...InboundMessage[]];
  assert.equal(sticker!.text, '');
  assert.deepEqual(sticker!.attachments, [{ kind: 'sticker', mime: 'image/webp', bytes: undefined, platformRef: 'x' }]);

  assert.deepEqual(
    { ...direct, timestamp: 0 },
    { channel: 'telegram', chatId: String(ALICE.id), platformId: String(dm.messageId), senderId: String(ALICE.id), senderName: 'Alice', text: 'hello there', isDirect: true, mentionsBot: false, replyToBot: false, replyTo: undefined, mentions: [], fromBot: false, timestamp: 0, chatTitle: undefined },
  );
  assert.ok(direct.timestamp > 0 && direct.timestamp % 1000 === 0, 'Telegram dates are seconds');

  assert.equal(plain!.chatId, '-1001234');
  assert.equal(plain!.isDirect, false);
  assert.equal(plain!.chatTitle, 'Team');
  assert.equal(plain!.senderName, 'Bob Builder');
  assert.equal(plain!.mentionsBot, false);

  assert.equal(mention!.mentionsBot, true);
  assert.equal(mention!.text, 'what is the plan? cc @alice');
  assert.deepEqual(mention!.mentions, [String(me.id), '@alice']);

  assert.equal(replied!.replyToBot, true);
  assert.equal(replied!.replyTo, '9');
  assert.equal(replied!.platformId, String(reply.messageId));
  assert.equal(replied!.mentionsBot, false);

  assert.equal(textMention!.mentionsBot, true);
  assert.equal(textMention!.text, 'please look');

  assert.equal(caption!.text, 'what is this');
  assert.equal(caption!.mentionsBot, true);

  assert.equal(bot!.fromBot, true);
});

test('commands: /cmd@bot and /ask become host text; commands for other bots are ignored', async (t) => {
  const { fake, received } = await start(t);
  fake.pushMessage({ chat: TEAM, text: '/status@enclave_test_bot now' });
  fake.pushMessage({ chat: TEAM, text: '/ask@enclave_test_bot what time is it?' });
  fake.pushMessage({ chat: TEAM, text: '/budget@other_bot' });
  fake.pushMessage({ chat: DM, text: '/ask summarise the day' });
  fake.pushMessage({ chat: TEAM, text: '/help' });

  const all = await waitFor('4 messages', () => received.length >= 4 && received);
  assert.deepEqual(
    all.map((m) => [m.chatId, m.text, m.mentionsBot]),
    [
      ['-1001234', '/status now', true],
      ['-1001234', 'what time is it?', true],
      [String(ALICE.id), 'summarise the day', true],
      ['-1001234', '/help', false],
    ],
  );
});

test('the saved offset survives a restart: no update is handed on twice', async (t) => {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const state = channelStateStore(openDatabase(':memory:'), 'telegram');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const first = await start(t, { fake, state, onMessage: (m) => (m.text === 'two' ? gate : Promise.resolve()) });
  fake.pushMessage({ chat: DM, text: 'one' });
  const two = fake.pushMessage({ chat: DM, text: 'two' });
  await waitFor('the second message in the host', () => first.received.length === 2);
  // Stop while the host still holds "two": Telegram has not been told it was taken.
  const stopping = first.channel.disconnect();
  release();
  await stopping;
  assert.ok(fake.pendingUpdateIds().includes(two.updateId), 'Telegram would send "two" again to a client that forgot the offset');
  assert.equal(state.get(OFFSET_KEY), String(two.updateId + 1));

  fake.pushMessage({ chat: DM, text: 'three' });
  const second = await start(t, { fake, state });
  await waitFor('the third message', () => second.received.length >= 1);
  assert.deepEqual(second.received.map((m) => m.text), ['three']);
  await waitFor('getUpdates confirming "three"', () => fake.confirmedOffset > two.updateId + 1);
  assert.deepEqual(fake.pendingUpdateIds(), []);
  assert.deepEqual(second.received.map((m) => m.text), ['three']);
});

test('send: one chunk as HTML, threaded as a reply', async (t) => {
  const { fake, channel } = await start(t);
  await channel.send({ chatId: '-1001234', text: '**Done**: `npm test` passed & <all> green', replyTo: '17' });
  const sent = await fake.waitForSent();
  assert.equal(sent.chatId, '-1001234');
  assert.equal(sent.parseMode, 'HTML');
  assert.equal(sent.text, '<b>Done</b>: <code>npm test</code> passed &amp; &lt;all&gt; green');
  assert.equal(sent.replyTo, 17);
  assert.deepEqual(sent.params.reply_parameters, { message_id: 17, allow_sending_without_reply: true });
  assert.equal(channel.maxMessageLength, 4096);
});

test('HTML Telegram cannot parse is sent again as plain text', async (t) => {
  const { fake, channel } = await start(t);
  fake.rejectNextHtml();
  await channel.send({ chatId: String(ALICE.id), text: 'a **bold** claim' });
  assert.equal(fake.callsTo('sendMessage').length, 2);
  assert.equal(fake.sent.length, 1);
  assert.equal(fake.sent[0]!.parseMode, undefined);
  assert.equal(fake.sent[0]!.text, 'a **bold** claim');
});

test('429 is a RetryAfterError with Telegram\'s retry_after, sent once: the outbox waits, not the adapter', async (t) => {
  const { fake, channel } = await start(t);
  fake.rateLimitNextSend(7);
  await assert.rejects(channel.send({ chatId: String(ALICE.id), text: 'patience' }), (err: Error) => err instanceof RetryAfterError && err.retryAfterMs === 7000);
  assert.equal(fake.callsTo('sendMessage').length, 1);
  assert.equal(fake.sent.length, 0);
});

test('a send that cannot succeed throws PermanentSendError with what to do, without retrying', async (t) => {
  const { fake, channel } = await start(t);
  const refusals = [
    { error: { error_code: 403, description: 'Forbidden: bot was blocked by the user' }, chat: String(ALICE.id), reason: /blocked or removed.*\/start/ },
    { error: { error_code: 403, description: 'Forbidden: bot was kicked from the supergroup chat' }, chat: '-1001234', reason: /blocked or removed/ },
    { error: { error_code: 400, description: 'Bad Request: chat not found' }, chat: '-404', reason: /no chat -404 .*group\.yaml/ },
    {
      error: { error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: -1009 } },
      chat: '-55',
      reason: /telegram:-1009/,
    },
  ];
  for (const { error, chat, reason } of refusals) {
    fake.failNextSends(error);
    await assert.rejects(channel.send({ chatId: chat, text: 'hi' }), (err: Error) => err instanceof PermanentSendError && reason.test(err.message));
  }
  assert.equal(fake.callsTo('sendMessage').length, refusals.length, 'none is retried');
});

test('a server error is a plain Error after one try, so the outbox decides when to try again', async (t) => {
  const { fake, channel } = await start(t);
  fake.failNextSends({ error_code: 502, description: 'Bad Gateway' });
  await assert.rejects(channel.send({ chatId: String(ALICE.id), text: 'hi' }), (err: Error) => !(err instanceof PermanentSendError) && !(err instanceof RetryAfterError) && /502/.test(err.message));
  assert.equal(fake.callsTo('sendMessage').length, 1);
});

test('a Bot API server that never answers fails the send after requestTimeoutSeconds instead of hanging', async (t) => {
  const { fake, channel } = await start(t, { config: { requestTimeoutSeconds: 1 } });
  fake.stallNextSends(1);
  let outcome: unknown;
  channel.send({ chatId: String(ALICE.id), text: 'into the void' }).then(
    () => (outcome = 'sent'),
    (err: unknown) => (outcome = err),
  );
  const err = await waitFor('the stalled send to fail', () => outcome, 60_000);
  assert.ok(err instanceof Error && !(err instanceof PermanentSendError), 'a timeout is worth another try later');
  assert.match(err.message, /did not answer sendMessage within 1 s/);
  assert.equal(fake.callsTo('sendMessage').length, 1);
  assert.equal(fake.sent.length, 0);
  await channel.send({ chatId: String(ALICE.id), text: 'answered again' });
  assert.equal((await fake.waitForSent()).text, 'answered again');
});

test('group chats are paced by rateLimit.groupIntervalMs, private chats by privateIntervalMs', async (t) => {
  const time = new ManualTime();
  const { fake, channel } = await start(t, { config: { rateLimit: { privateIntervalMs: 100, groupIntervalMs: 300, burst: 1 } }, time });
  await channel.send({ chatId: '-1001234', text: 'one' });
  await channel.send({ chatId: '-1001234', text: 'two' });
  assert.deepEqual(time.waits, [300], 'the second group message waited one group interval');
  await channel.send({ chatId: String(ALICE.id), text: 'three' });
  await channel.send({ chatId: String(ALICE.id), text: 'four' });
  assert.deepEqual(time.waits, [300, 100], 'a private chat waits its own, shorter interval');
  assert.deepEqual(fake.sent.map((m) => m.text), ['one', 'two', 'three', 'four']);
});

test('setTyping sends the typing action', async (t) => {
  const { fake, channel } = await start(t);
  await channel.setTyping('-1001234', true);
  await channel.setTyping('-1001234', false);
  assert.deepEqual(fake.chatActions, [{ chatId: '-1001234', action: 'typing' }]);
});

test('a bad token stops only this channel: connect resolves, health says what to do', async (t) => {
  const { fake, channel, logs } = await start(t, { secrets: { token: '123456:wrong' } });
  const health = channel.health();
  assert.equal(health.connected, false);
  assert.match(health.error ?? '', /rejected the bot token.*401.*TELEGRAM_BOT_TOKEN/);
  const errors = logs.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.msg, /TELEGRAM_BOT_TOKEN/);
  assert.equal(fake.calls.length, 0);
  await assert.rejects(channel.send({ chatId: String(ALICE.id), text: 'x' }), (err: Error) => err instanceof PermanentSendError && /rejected the bot token/.test(err.message));
});

test('network failures while polling: backoff, reconnects counted, nothing lost', async (t) => {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  fake.dropNextPolls(2);
  const { channel, received } = await start(t, { fake });
  fake.pushMessage({ chat: DM, text: 'still there?' });
  await waitFor('the message after reconnecting', () => received.length === 1);
  const health = channel.health();
  assert.equal(health.reconnects, 2);
  assert.equal(health.connected, true);
  assert.equal(health.error, undefined);
  assert.equal(received[0]!.text, 'still there?');
});

test('409 Conflict (another instance polling) is reported clearly and polling resumes', async (t) => {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  fake.conflictNextPolls(1);
  const { channel, received, logs } = await start(t, { fake });
  fake.pushMessage({ chat: DM, text: 'after the conflict' });
  await waitFor('the message', () => received.length === 1);
  const conflict = logs.find((l) => l.level >= 50);
  assert.match(conflict?.msg ?? '', /another program is taking updates.*409/);
  assert.equal(channel.health().reconnects, 1);
  assert.equal(channel.health().error, undefined);
});

test('webhook mode: setWebhook with a secret token; only Telegram\'s signed posts get in, once each', async (t) => {
  const port = await freePort();
  const secret = 'hook-secret_1';
  const { fake, received, channel } = await start(t, {
    config: { mode: 'webhook', webhook: { url: 'https://bot.example.com/telegram', port } },
    secrets: { webhookSecret: secret },
  });
  assert.deepEqual(fake.webhook, { url: 'https://bot.example.com/telegram', secretToken: secret });
  assert.equal(fake.callsTo('getUpdates').length, 0);
  assert.equal(channel.health().connected, true);

  const update = { update_id: 500, message: { message_id: 1, date: 1, chat: DM, from: ALICE, text: 'via webhook' } };
  const post = (token: string) =>
    fetch(`http://127.0.0.1:${port}/telegram`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': token }, body: JSON.stringify(update) });
  assert.equal((await post('forged')).status, 401);
  assert.equal(received.length, 0);
  assert.equal((await post(secret)).status, 200);
  assert.equal((await post(secret)).status, 200, 'a redelivery is acknowledged');
  assert.deepEqual(received.map((m) => m.text), ['via webhook']);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

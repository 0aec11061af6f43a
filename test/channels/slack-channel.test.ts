import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { PermanentSendError, RetryAfterError, type ChannelContext, type InboundHandler, type InboundMessage } from '../../channels/channel.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { answerThread } from '../../channels/slack/message-ref.js';
import { plainToSlack, slackToPlain } from '../../channels/slack/mrkdwn.js';
import { SlackChannel } from '../../channels/slack/slack-channel.js';
import { MessageStore } from '../../src/core/message-store.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { waitFor } from '../helpers/wait.js';

function context(log: Logger = silentLogger()): ChannelContext {
  const state = new Map<string, string>();
  return { log, state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' };
}

/** A logger that keeps every line, to check what the channel told the operator. */
function capturingLogger(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, lines };
}

/**
 * Does what the host does with a message: stores it (unique on channel + chat + platform id)
 * and answers every message that is not a duplicate, replying to its platform id.
 */
function hostLike(channel: () => SlackChannel) {
  const store = new MessageStore(openDatabase(':memory:'));
  const received: InboundMessage[] = [];
  const handler: InboundHandler = async (msg) => {
    received.push(msg);
    if (store.insert(msg, 'team', 'queued') === undefined) return { status: 'duplicate', settled: Promise.resolve('none') };
    const settled = channel()
      .send({ chatId: msg.chatId, text: `answer: ${msg.text}`, replyTo: msg.platformId })
      .then(() => 'answered' as const);
    return { status: 'queued', settled };
  };
  return { handler, received };
}

describe('Slack over the Events API (HTTP mode)', () => {
  let fake: FakeSlack;
  let channel: SlackChannel;
  let url: string;
  let host: ReturnType<typeof hostLike>;

  before(async () => {
    fake = await FakeSlack.start();
    fake.users.set('UALICE', 'alice');
    fake.channels.set('CGENERAL', 'general');
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context(), { sendIntervalMs: 10 });
    host = hostLike(() => channel);
    await channel.connect(host.handler);
    url = channel.receiverUrl()!;
  });

  after(async () => {
    await channel.disconnect();
    await fake.close();
  });

  test('connects: auth.test learns the bot, the receiver listens', () => {
    assert.equal(channel.health().connected, true);
    assert.equal(channel.health().error, undefined);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
    assert.equal(fake.callsOf('auth.test').length, 1);
  });

  test('an app_mention reaches the host with the mention stripped, once even with its message event', async () => {
    const before = fake.posted.length;
    const mention = fake.appMention({ channel: 'CGENERAL', user: 'UALICE', text: `<@${fake.botUserId}> what is 2 &amp; 2?` });
    const res = await fake.postEvent(url, mention);
    assert.equal(res.status, 200);
    const msg = await waitFor('the mention', () => host.received.find((m) => m.platformId === mention.ts));
    assert.deepEqual(msg, {
      channel: 'slack',
      chatId: 'CGENERAL',
      platformId: mention.ts,
      senderId: 'UALICE',
      senderName: 'alice',
      text: 'what is 2 & 2?',
      isDirect: false,
      mentionsBot: true,
      replyToBot: false,
      replyTo: undefined,
      mentions: [fake.botUserId],
      fromBot: false,
      timestamp: Math.round(Number(mention.ts) * 1000),
      chatTitle: 'general',
    });
    // Slack also sends the same message as a `message` event.
    await fake.postEvent(url, fake.message({ channel: 'CGENERAL', user: 'UALICE', text: String(mention.text), ts: mention.ts }));
    const marker = fake.message({ channel: 'CGENERAL', user: 'UALICE', text: 'marker' });
    await fake.postEvent(url, marker);
    const posts = await fake.waitForPosts(before + 2);
    assert.equal(posts.filter((p) => p.text === 'answer: what is 2 &amp; 2?').length, 1);
    assert.equal(host.received.filter((m) => m.platformId === mention.ts).length, 1);
    const answer = posts.find((p) => p.text.startsWith('answer: what is'))!;
    assert.equal(answer.channel, 'CGENERAL');
    assert.equal(answer.thread_ts, undefined, 'a top-level message is answered in the channel');
  });

  test('a DM is direct and answered in the DM', async () => {
    const dm = fake.message({ channel: 'DALICE', channel_type: 'im', user: 'UALICE', text: 'hello there' });
    await fake.postEvent(url, dm);
    const msg = await waitFor('the DM', () => host.received.find((m) => m.platformId === dm.ts));
    assert.equal(msg.isDirect, true);
    assert.equal(msg.mentionsBot, false);
    assert.equal(msg.chatId, 'DALICE');
    assert.equal(msg.text, 'hello there');
    assert.equal(msg.chatTitle, undefined);
    const posts = await waitFor('the DM answer', () => fake.posted.filter((p) => p.channel === 'DALICE').length === 1 && fake.posted);
    assert.equal(posts.find((p) => p.channel === 'DALICE')!.text, 'answer: hello there');
  });

  test('a reply in a thread the bot started is answered in that thread', async () => {
    const parent = fake.nextTs();
    const reply = fake.message({ channel: 'CGENERAL', user: 'UALICE', text: 'and tomorrow?', thread_ts: parent, parent_user_id: fake.botUserId });
    await fake.postEvent(url, reply);
    const msg = await waitFor('the thread reply', () => host.received.find((m) => m.text === 'and tomorrow?'));
    assert.equal(msg.replyToBot, true);
    assert.equal(msg.mentionsBot, false);
    assert.equal(msg.replyTo, parent);
    assert.equal(msg.platformId, `${parent}/${reply.ts}`);
    const answer = await waitFor('the threaded answer', () => fake.posted.find((p) => p.text === 'answer: and tomorrow?'));
    assert.equal(answer.channel, 'CGENERAL');
    assert.equal(answer.thread_ts, parent);
  });

  test("a thread reply under someone else's message is not a reply to the bot", async () => {
    const parent = fake.nextTs();
    await fake.postEvent(url, fake.message({ channel: 'CGENERAL', user: 'UALICE', text: 'enclave, ping', thread_ts: parent, parent_user_id: 'UBOB' }));
    const msg = await waitFor('the reply', () => host.received.find((m) => m.text === 'enclave, ping'));
    assert.equal(msg.replyToBot, false);
    assert.equal(msg.mentionsBot, false);
    assert.equal(msg.replyTo, parent);
  });

  test('messages from bots are marked fromBot', async () => {
    const botMsg = fake.message({ channel: 'CGENERAL', subtype: 'bot_message', bot_id: 'BOTHER', text: 'beep' });
    await fake.postEvent(url, botMsg);
    const msg = await waitFor('the bot message', () => host.received.find((m) => m.platformId === botMsg.ts));
    assert.equal(msg.fromBot, true);
    assert.equal(msg.senderId, 'BOTHER');
  });

  test('a bad signature is refused with 401 and nothing reaches the host', async () => {
    const count = host.received.length;
    const res = await fake.postEvent(url, fake.appMention({ channel: 'CGENERAL', user: 'UALICE', text: `<@${fake.botUserId}> forged` }), {
      signingSecret: 'not-the-secret',
    });
    assert.equal(res.status, 401);
    assert.equal(host.received.length, count);
    assert.equal(host.received.some((m) => m.text === 'forged'), false);
  });

  test('redeliveries (x-slack-retry-num) produce no second answer', async () => {
    const event = fake.appMention({ channel: 'CGENERAL', user: 'UALICE', text: `<@${fake.botUserId}> once please` });
    await fake.postEvent(url, event);
    assert.equal((await fake.postEvent(url, event, { retryNum: 1 })).status, 200);
    assert.equal((await fake.postEvent(url, event, { retryNum: 2 })).status, 200);
    await fake.postEvent(url, fake.message({ channel: 'CGENERAL', user: 'UALICE', text: 'after retries' }));
    await waitFor('the answer after the retries', () => fake.posted.find((p) => p.text === 'answer: after retries'));
    assert.equal(fake.posted.filter((p) => p.text === 'answer: once please').length, 1);
    assert.equal(host.received.filter((m) => m.platformId === event.ts).length, 1);
  });

  test('/ask becomes a message to the bot, answered in the channel', async () => {
    const cmd = fake.slashCommand({ command: '/ask', text: 'how are you?', channel_id: 'CGENERAL', user_id: 'UALICE', user_name: 'alice' });
    const res = await fake.postCommand(url, cmd);
    assert.equal(res.status, 200);
    const msg = await waitFor('the /ask message', () => host.received.find((m) => m.platformId === `cmd:${cmd.trigger_id}`));
    assert.equal(msg.text, 'how are you?');
    assert.equal(msg.mentionsBot, true);
    assert.equal(msg.senderName, 'alice');
    assert.equal(msg.chatTitle, 'general');
    const answer = await waitFor('the /ask answer', () => fake.posted.find((p) => p.text === 'answer: how are you?'));
    assert.equal(answer.channel, 'CGENERAL');
    assert.equal(answer.thread_ts, undefined);
  });

  test('/enclave status passes the host command on; bare /enclave is /help; empty /ask gets a usage hint', async () => {
    const status = fake.slashCommand({ command: '/enclave', text: 'status verbose', channel_id: 'CGENERAL', user_id: 'UALICE' });
    await fake.postCommand(url, status);
    const msg = await waitFor('/status', () => host.received.find((m) => m.platformId === `cmd:${status.trigger_id}`));
    assert.equal(msg.text, '/status verbose');

    const bare = fake.slashCommand({ command: '/enclave', text: '', channel_id: 'CGENERAL', user_id: 'UALICE' });
    await fake.postCommand(url, bare);
    assert.equal((await waitFor('/help', () => host.received.find((m) => m.platformId === `cmd:${bare.trigger_id}`))).text, '/help');

    const empty = fake.slashCommand({ command: '/ask', text: '  ', channel_id: 'CGENERAL', user_id: 'UALICE' });
    const res = await fake.postCommand(url, empty);
    assert.equal(res.status, 200);
    assert.match(res.body, /Usage: \/ask/);
    assert.equal(host.received.some((m) => m.platformId === `cmd:${empty.trigger_id}`), false);
  });

  test('a 429 ratelimited answer is a RetryAfterError with its Retry-After, sent once: the outbox waits, not the adapter', async () => {
    fake.rateLimit('chat.postMessage', 3);
    const before = fake.callsOf('chat.postMessage').length;
    await assert.rejects(channel.send({ chatId: 'CRATE', text: 'after the wait' }), (err: Error) => err instanceof RetryAfterError && err.retryAfterMs === 3000);
    assert.equal(fake.callsOf('chat.postMessage').length - before, 1);
    await channel.send({ chatId: 'CRATE', text: 'after the wait' });
    assert.equal(fake.posted.at(-1)!.text, 'after the wait');
  });

  test('a refusal no retry can fix is a PermanentSendError with what to do, sent once', async () => {
    const before = fake.callsOf('chat.postMessage').length;
    for (const [error, reason] of [
      ['not_in_channel', /not_in_channel.*invite the bot/],
      ['channel_not_found', /channel_not_found.*group\.yaml/],
      ['is_archived', /is_archived.*archived/],
      ['restricted_action', /restricted_action.*admin/],
    ] as const) {
      fake.failNext('chat.postMessage', error);
      await assert.rejects(channel.send({ chatId: 'CPRIVATE', text: 'hi' }), (err: Error) => err instanceof PermanentSendError && reason.test(err.message));
    }
    assert.equal(fake.callsOf('chat.postMessage').length - before, 4);
  });

  test('a refusal someone can fix without a restart (missing_scope) stays a plain Error for the outbox to retry', async () => {
    fake.failNext('chat.postMessage', 'missing_scope');
    await assert.rejects(channel.send({ chatId: 'CGENERAL', text: 'hi' }), (err: Error) => !(err instanceof PermanentSendError) && /chat:write/.test(err.message));
  });

  test('outbound text is escaped and converted to mrkdwn; user mentions survive', async () => {
    await channel.send({ chatId: 'CGENERAL', text: 'a < b & <!channel> **bold** <@UALICE> [docs](https://x.test/a?b=1)' });
    assert.equal(fake.posted.at(-1)!.text, 'a &lt; b &amp; &lt;!channel&gt; *bold* <@UALICE> <https://x.test/a?b=1|docs>');
  });
});

describe('Slack connection failures', () => {
  let fake: FakeSlack;
  before(async () => {
    fake = await FakeSlack.start();
  });
  after(async () => {
    await fake.close();
  });

  test('invalid_auth stops only this channel, with one error line saying what to do', async () => {
    const { log, lines } = capturingLogger();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    const channel = new SlackChannel(config, { botToken: 'xoxb-revoked', signingSecret: fake.signingSecret }, context(log));
    let called = false;
    await channel.connect(async () => {
      called = true;
      return { status: 'ignored', settled: Promise.resolve('none') };
    });
    const health = channel.health();
    assert.equal(health.connected, false);
    assert.match(health.error ?? '', /invalid_auth.*SLACK_BOT_TOKEN/);
    assert.equal(channel.receiverUrl(), undefined, 'no receiver is started');
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.msg, health.error);
    assert.equal(lines.some((l) => l.msg.includes('xoxb-revoked')), false);
    assert.equal(called, false);
    const calls = fake.calls.length;
    await assert.rejects(channel.send({ chatId: 'CGENERAL', text: 'x' }), (err: Error) => err instanceof PermanentSendError && /SLACK_BOT_TOKEN/.test(err.message));
    assert.equal(fake.calls.length, calls, 'a dead token is not tried again');
    await channel.disconnect();
  });

  test('a bot token revoked while running: the send fails for good and the channel says why', async () => {
    const { log, lines } = capturingLogger();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context(log));
    try {
      await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
      assert.equal(channel.health().connected, true);
      fake.failNext('chat.postMessage', 'token_revoked');
      await assert.rejects(channel.send({ chatId: 'CGENERAL', text: 'x' }), (err: Error) => err instanceof PermanentSendError && /token_revoked.*SLACK_BOT_TOKEN/.test(err.message));
      assert.equal(channel.health().connected, false);
      assert.match(channel.health().error ?? '', /token_revoked/);
      assert.equal(lines.filter((l) => l.level >= 50).length, 1);
      const calls = fake.callsOf('chat.postMessage').length;
      await assert.rejects(channel.send({ chatId: 'CGENERAL', text: 'y' }), PermanentSendError);
      assert.equal(fake.callsOf('chat.postMessage').length, calls);
    } finally {
      await channel.disconnect();
    }
  });

  test('a port already in use for the HTTP receiver is reported, not thrown', async () => {
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: fake.port });
    const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context());
    await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
    assert.equal(channel.health().connected, false);
    assert.match(channel.health().error ?? '', /EADDRINUSE.*channels\.slack\.port/);
    await channel.disconnect();
  });

  test('a missing app-level token in socket mode is a clear error, not a crash', async () => {
    const config = slackConfigSchema.parse({ enabled: true, apiUrl: fake.apiUrl });
    const channel = new SlackChannel(config, { botToken: fake.botToken }, context());
    await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
    assert.equal(channel.health().connected, false);
    assert.match(channel.health().error ?? '', /SLACK_APP_TOKEN/);
  });

  test('a refused app-level token stops socket mode with an actionable error', async () => {
    const config = slackConfigSchema.parse({ enabled: true, apiUrl: fake.apiUrl });
    const channel = new SlackChannel(config, { botToken: fake.botToken, appToken: 'xapp-wrong' }, context());
    await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
    assert.equal(channel.health().connected, false);
    assert.match(channel.health().error ?? '', /app-level token \(invalid_auth\)/);
    await channel.disconnect();
  });
});

describe('Slack unreachable at start', () => {
  test('HTTP mode: connect() returns after the first failed auth.test; background retries connect later and are counted', async () => {
    const fake = await FakeSlack.start();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context(), { reconnectBaseMs: 20, reconnectMaxMs: 80 });
    fake.failNext('auth.test', 'internal_error', 3);
    try {
      await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
      assert.equal(fake.callsOf('auth.test').length, 1);
      assert.equal(channel.health().connected, false);
      assert.match(channel.health().error ?? '', /cannot reach Slack.*internal_error.*retrying/);
      assert.equal(channel.receiverUrl(), undefined);
      await waitFor('connected by a background retry', () => channel.health().connected);
      assert.equal(channel.health().reconnects, 3);
      assert.equal(channel.health().error, undefined);
      assert.equal(fake.callsOf('auth.test').length, 4);
      assert.match(channel.receiverUrl() ?? '', /^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });

  test('Socket Mode: connect() returns after the first failed socket open; it connects later', async () => {
    const fake = await FakeSlack.start();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'socket', apiUrl: fake.apiUrl });
    const channel = new SlackChannel(config, { botToken: fake.botToken, appToken: fake.appToken }, context(), { reconnectBaseMs: 20, reconnectMaxMs: 80 });
    fake.failNext('apps.connections.open', 'internal_error', 2);
    try {
      await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
      assert.equal(channel.health().connected, false);
      assert.match(channel.health().error ?? '', /internal_error.*reconnecting/);
      assert.equal(fake.socketConnections, 0);
      await waitFor('connected by a background retry', () => channel.health().connected);
      assert.equal(fake.socketConnections, 1);
      assert.equal(channel.health().reconnects, 2);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });

  test('disconnect() stops the background retries', async () => {
    const fake = await FakeSlack.start();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context(), { reconnectBaseMs: 20, reconnectMaxMs: 40 });
    fake.failNext('auth.test', 'service_unavailable', 1000);
    try {
      await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
      await waitFor('background retries', () => channel.health().reconnects >= 2);
      await channel.disconnect();
      const calls = fake.callsOf('auth.test').length;
      const reconnects = channel.health().reconnects;
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(fake.callsOf('auth.test').length <= calls + 1, 'no auth.test after disconnect (one may have been on its way)');
      assert.equal(channel.health().reconnects, reconnects);
      assert.equal(channel.receiverUrl(), undefined);
    } finally {
      await fake.close();
    }
  });
});

describe('Slack over Socket Mode', () => {
  test('events and commands arrive over the socket, and a dropped socket reconnects', async () => {
    const fake = await FakeSlack.start();
    const config = slackConfigSchema.parse({ enabled: true, mode: 'socket', apiUrl: fake.apiUrl });
    const channel = new SlackChannel(config, { botToken: fake.botToken, appToken: fake.appToken }, context(), {
      reconnectBaseMs: 50,
      sendIntervalMs: 10,
    });
    const host = hostLike(() => channel);
    try {
      await channel.connect(host.handler);
      assert.equal(channel.health().connected, true);
      assert.equal(fake.socketConnections, 1);
      assert.equal(fake.callsOf('apps.connections.open')[0]!.token, fake.appToken);

      const mention = fake.appMention({ channel: 'CGENERAL', user: 'UALICE', text: `<@${fake.botUserId}> over the socket` });
      await fake.sendSocketEvent(mention);
      await waitFor('the socket answer', () => fake.posted.find((p) => p.text === 'answer: over the socket'));

      const ack = await fake.sendSocketCommand(fake.slashCommand({ command: '/enclave', text: 'budget', channel_id: 'CGENERAL', user_id: 'UALICE' }));
      assert.ok(ack !== undefined, 'the command was acknowledged over the socket');
      await waitFor('/budget', () => host.received.find((m) => m.text === '/budget'));

      fake.dropSockets();
      await waitFor('the reconnect', () => fake.socketConnections === 2 && channel.health().connected && channel.health().reconnects === 1);
      await fake.sendSocketEvent(fake.message({ channel: 'DALICE', channel_type: 'im', user: 'UALICE', text: 'still there?' }));
      await waitFor('the answer after the reconnect', () => fake.posted.find((p) => p.text === 'answer: still there?'));
      assert.equal(channel.health().error, undefined);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });
});

describe('Slack text and threads', () => {
  test('inbound control sequences become plain text', () => {
    assert.equal(slackToPlain('<@UBOT> see <#C1|general>, <https://a.test|the docs> &lt;3 <!here> <@U2>', 'UBOT'), 'see #general, the docs (https://a.test) <3 @here <@U2>');
    assert.equal(slackToPlain('hi <@UBOT|enclave>', 'UBOT'), 'hi');
  });

  test('code blocks are escaped but not reformatted', () => {
    assert.equal(plainToSlack('**x** ```a **b** <c>```'), '*x* ```a **b** &lt;c&gt;```');
  });

  test('answers go in the thread the message came from', () => {
    assert.equal(answerThread('1.000001/1.000002', false), '1.000001');
    assert.equal(answerThread('1.000001', false), undefined);
    assert.equal(answerThread('1.000001', true), '1.000001');
    assert.equal(answerThread('cmd:123.456.abc', true), undefined);
    assert.equal(answerThread(undefined, true), undefined);
  });
});

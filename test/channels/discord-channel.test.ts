import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { PermanentSendError, RetryAfterError, type ChannelContext, type InboundMessage, type InboundOutcome, type InboundReceipt } from '../../channels/channel.js';
import { discordConfigSchema } from '../../channels/discord/config.js';
import { DiscordChannel } from '../../channels/discord/discord-channel.js';
import { sleep } from '../../src/time/sleep.js';
import { FakeDiscord } from '../fakes/fake-discord.js';
import { waitFor } from '../helpers/wait.js';

interface Harness {
  ctx: ChannelContext;
  logLines: string[];
  inbound: InboundMessage[];
  /** What the next inbound message's receipt will be; defaults to queued + answered. */
  nextReceipt: (msg: InboundMessage) => InboundReceipt;
}

function harness(): Harness {
  const logLines: string[] = [];
  const state = new Map<string, string>();
  const h: Harness = {
    logLines,
    inbound: [],
    ctx: {
      log: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
      state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) },
      assistantName: 'Enclave',
      commands: [
        { name: 'status', description: 'Model, container, queue and channel health' },
        { name: 'model', description: 'Show or switch the model' },
        { name: 'help', description: 'What the commands do' },
      ],
    },
    nextReceipt: () => ({ status: 'queued', settled: Promise.resolve('answered') }),
  };
  return h;
}

function channelFor(fake: FakeDiscord, h: Harness, token = fake.token): DiscordChannel {
  const config = discordConfigSchema.parse({ enabled: true, apiBase: fake.apiBase });
  return new DiscordChannel(config, { token }, h.ctx, { loginRetryBaseMs: 50, loginRetryMaxMs: 200 });
}

async function nextInbound(h: Harness, count: number): Promise<InboundMessage> {
  return waitFor(`inbound message #${count}`, () => h.inbound[count - 1]);
}

describe('Discord channel through discord.js against a fake Discord', () => {
  let fake: FakeDiscord;
  let h: Harness;
  let channel: DiscordChannel;

  before(async () => {
    fake = await FakeDiscord.start({ heartbeatIntervalMs: 300 });
    h = harness();
    channel = channelFor(fake, h);
    await channel.connect(async (msg) => {
      h.inbound.push(msg);
      return h.nextReceipt(msg);
    });
  });

  after(async () => {
    await channel.disconnect();
    await fake.close();
  });

  test('READY and GUILD_CREATE connect it; /ask and the host\'s commands are registered; heartbeats are ACKed', async () => {
    const health = channel.health();
    assert.equal(health.connected, true);
    assert.equal(health.error, undefined);
    assert.ok(health.lastEventAt && health.lastEventAt > 0);
    const put = fake.calls('PUT', new RegExp(`^/applications/${fake.applicationId}/commands$`));
    assert.equal(put.length, 1);
    const registered = put[0]!.body as unknown as { name: string; options?: { name: string; required: boolean }[] }[];
    assert.deepEqual(registered.map((c) => c.name), ['ask', 'status', 'model', 'help']);
    assert.deepEqual(registered.find((c) => c.name === 'model')?.options?.map((o) => [o.name, o.required]), [['args', false]], 'a host command takes its arguments as text');
    await waitFor('two heartbeats ACKed', () => fake.gateway.heartbeatAcks >= 2);
    assert.equal(channel.health().connected, true, 'ACKed heartbeats keep the session up');
  });

  test('a guild message that mentions the bot: mention stripped, mentionsBot set', async () => {
    const start = h.inbound.length;
    const id = fake.userMessage({ content: `<@${fake.bot.id}>  what is 2+2?` });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.channel, 'discord');
    assert.equal(msg.chatId, fake.guild.channelId);
    assert.equal(msg.platformId, id);
    assert.equal(msg.text, 'what is 2+2?');
    assert.equal(msg.mentionsBot, true);
    assert.equal(msg.replyToBot, false);
    assert.equal(msg.isDirect, false);
    assert.equal(msg.fromBot, false);
    assert.equal(msg.senderId, fake.human.id);
    assert.equal(msg.chatTitle, 'Test Guild #general');
    assert.deepEqual(msg.mentions, [fake.bot.id]);
    assert.ok(Math.abs(msg.timestamp - Date.now()) < 60_000, 'timestamp comes from the message');
  });

  test('guild messages without a mention, with <@!id>, with the bot role, and a reply to the bot', async () => {
    const start = h.inbound.length;
    fake.userMessage({ content: 'just chatting' });
    fake.userMessage({ content: `hey <@!${fake.bot.id}>` });
    fake.userMessage({ content: `<@&${fake.guild.botRoleId}> ping`, mentionRoles: [fake.guild.botRoleId] });
    const plain = await nextInbound(h, start + 1);
    assert.equal(plain.text, 'just chatting');
    assert.equal(plain.mentionsBot, false);
    const nick = await nextInbound(h, start + 2);
    assert.equal(nick.text, 'hey');
    assert.equal(nick.mentionsBot, true);
    const role = await nextInbound(h, start + 3);
    assert.equal(role.mentionsBot, true);

    await channel.send({ chatId: fake.guild.channelId, text: 'I am the bot' });
    const botPost = await fake.waitForCall('POST', new RegExp(`^/channels/${fake.guild.channelId}/messages$`));
    assert.equal(botPost.body?.content, 'I am the bot');
    const botMessageId = fake.messageIdOf(fake.guild.channelId, 'I am the bot');
    fake.userMessage({ content: 'thanks!', replyTo: botMessageId });
    const reply = await nextInbound(h, start + 4);
    assert.equal(reply.replyToBot, true);
    assert.equal(reply.replyTo, botMessageId);
    assert.equal(reply.mentionsBot, false, 'replying alone is not a mention');
  });

  test('a DM arrives as a direct chat', async () => {
    const start = h.inbound.length;
    fake.userMessage({ content: 'hello in private', dm: true });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.isDirect, true);
    assert.equal(msg.chatId, fake.dmChannelId());
    assert.equal(msg.text, 'hello in private');
    assert.equal(msg.chatTitle, undefined);
  });

  test('messages by bots are not handed on', async () => {
    const start = h.inbound.length;
    fake.userMessage({ content: `<@${fake.bot.id}> from another bot`, author: { id: '4242', username: 'otherbot', bot: true } });
    fake.userMessage({ content: 'from a person' });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.text, 'from a person');
    assert.equal(h.inbound.length, start + 1);
  });

  test('send threads replies, classifies a 429 with its retry-after, and fails clearly when forbidden', async () => {
    const path = new RegExp(`^/channels/${fake.guild.channelId}/messages$`);
    const before = fake.calls('POST', path).length;
    fake.failNext('POST', path, { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.2, global: false }, headers: { 'retry-after': '0.2' } });
    let waitMs = 0;
    await assert.rejects(channel.send({ chatId: fake.guild.channelId, text: 'after a 429', replyTo: '123456789' }), (err: Error) => {
      waitMs = err instanceof RetryAfterError ? err.retryAfterMs : 0;
      return waitMs >= 200 && waitMs < 1000 && !/\b429\b/.test(err.message);
    });
    assert.equal(fake.calls('POST', path).length - before, 1, 'the adapter does not wait and retry by itself');
    await sleep(waitMs);
    await channel.send({ chatId: fake.guild.channelId, text: 'after a 429', replyTo: '123456789' });
    const calls = fake.calls('POST', path).slice(before);
    assert.equal(calls.length, 2, 'one 429, then the outbox\'s retry');
    assert.deepEqual(calls[1]!.body?.message_reference, { message_id: '123456789', fail_if_not_exists: false });
    assert.deepEqual(calls[1]!.body?.allowed_mentions, { parse: [], replied_user: true });

    const permanent = (reason: RegExp) => (err: Error) => err instanceof PermanentSendError && reason.test(err.message);
    fake.failNext('POST', path, { status: 403, body: { message: 'Missing Permissions', code: 50013 } });
    await assert.rejects(channel.send({ chatId: fake.guild.channelId, text: 'forbidden' }), permanent(/Send Messages permission/));
    fake.failNext('POST', path, { status: 403, body: { message: 'Missing Access', code: 50001 } });
    await assert.rejects(channel.send({ chatId: fake.guild.channelId, text: 'no access' }), permanent(/View Channel/));
    fake.failNext('POST', /^\/channels\/\d+\/messages$/, { status: 404, body: { message: 'Unknown Channel', code: 10003 } });
    await assert.rejects(channel.send({ chatId: '1234567890', text: 'gone' }), permanent(/1234567890 does not exist/));
    fake.failNext('POST', path, { status: 403, body: { message: 'Cannot send messages to this user', code: 50007 } });
    await assert.rejects(channel.send({ chatId: fake.guild.channelId, text: 'dm closed' }), permanent(/does not accept messages/));

    await channel.setTyping(fake.guild.channelId, true);
    await fake.waitForCall('POST', new RegExp(`^/channels/${fake.guild.channelId}/typing$`));
  });

  test('/ask is deferred at once, then the answer edits it and a second chunk follows up', async () => {
    let settle!: (o: InboundOutcome) => void;
    h.nextReceipt = () => ({ status: 'queued', settled: new Promise((r) => (settle = r)) });
    const start = h.inbound.length;
    const cmd = fake.slashCommand({ name: 'ask', options: { text: 'what time is it?' } });
    const callback = await fake.waitForCall('POST', new RegExp(`^/interactions/${cmd.id}/${cmd.token}/callback$`));
    assert.equal(callback.body?.type, 5, 'deferred channel message');
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.text, 'what time is it?');
    assert.equal(msg.mentionsBot, true);
    assert.equal(msg.platformId, cmd.id);
    assert.equal(msg.chatId, fake.guild.channelId);

    await channel.send({ chatId: msg.chatId, text: 'first chunk', replyTo: msg.platformId });
    await channel.send({ chatId: msg.chatId, text: 'second chunk', replyTo: msg.platformId });
    settle('answered');
    const edit = await fake.waitForCall('PATCH', new RegExp(`^/webhooks/${fake.applicationId}/${cmd.token}/messages/@original$`));
    assert.equal(edit.body?.content, 'first chunk');
    const followUp = await fake.waitForCall('POST', new RegExp(`^/webhooks/${fake.applicationId}/${cmd.token}$`));
    assert.equal(followUp.body?.content, 'second chunk');
    assert.equal(fake.calls('PATCH', /@original$/).filter((r) => r.path.includes(cmd.token)).length, 1, 'edited once');
    h.nextReceipt = harness().nextReceipt;
  });

  test('a host command unanswered by the host gets a short note instead of a spinner', async () => {
    h.nextReceipt = () => ({ status: 'unregistered', settled: Promise.resolve('none') });
    const start = h.inbound.length;
    const cmd = fake.slashCommand({ name: 'status', dm: true });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.text, '/status');
    assert.equal(msg.mentionsBot, false);
    assert.equal(msg.isDirect, true);
    const edit = await fake.waitForCall('PATCH', new RegExp(`^/webhooks/${fake.applicationId}/${cmd.token}/messages/@original$`));
    assert.match(String(edit.body?.content), new RegExp(`not set up for Enclave .*discord:${cmd.channelId}`));
    h.nextReceipt = harness().nextReceipt;
  });

  test('a host command\'s arguments arrive after its name, as the host parses them', async () => {
    const start = h.inbound.length;
    fake.slashCommand({ name: 'model', options: { args: ' gpt-test ' } });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.text, '/model gpt-test');
    assert.equal(msg.mentionsBot, false);
  });

  test('a command whose turn was answered through a later message says so instead of spinning', async () => {
    let settle!: (o: InboundOutcome) => void;
    h.nextReceipt = () => ({ status: 'queued', settled: new Promise((r) => (settle = r)) });
    const start = h.inbound.length;
    const cmd = fake.slashCommand({ name: 'ask', options: { text: 'first question' } });
    await nextInbound(h, start + 1);
    await fake.waitForCall('POST', new RegExp(`^/interactions/${cmd.id}/`));
    h.nextReceipt = harness().nextReceipt;
    const laterId = fake.userMessage({ content: `<@${fake.bot.id}> and a follow-up` });
    await nextInbound(h, start + 2);
    const before = fake.sentMessages(fake.guild.channelId).length;
    await channel.send({ chatId: fake.guild.channelId, text: 'one answer for both', replyTo: laterId });
    settle('answered');
    const edit = await fake.waitForCall('PATCH', new RegExp(`^/webhooks/${fake.applicationId}/${cmd.token}/messages/@original$`));
    assert.equal(edit.body?.content, 'Answered below.');
    assert.deepEqual(fake.sentMessages(fake.guild.channelId).slice(before), ['one answer for both']);
  });

  test('an answer after the interaction token expired goes to the channel', async () => {
    const start = h.inbound.length;
    const cmd = fake.slashCommand({ name: 'ask', options: { text: 'slow question' } });
    const msg = await nextInbound(h, start + 1);
    await fake.waitForCall('POST', new RegExp(`^/interactions/${cmd.id}/`));
    fake.expireInteraction(cmd.id);
    const before = fake.sentMessages(fake.guild.channelId).length;
    await channel.send({ chatId: msg.chatId, text: 'late answer', replyTo: msg.platformId });
    const sent = await fake.waitForSentMessages(fake.guild.channelId, before + 1);
    assert.equal(sent.at(-1), 'late answer');
  });

  test('after the gateway drops, discord.js resumes, reconnects are counted and messages flow again', async () => {
    const reconnectsBefore = channel.health().reconnects;
    const resumesBefore = fake.gateway.resumes;
    fake.gateway.drop(4000);
    await waitFor('the session resumed', () => fake.gateway.resumes > resumesBefore && fake.gateway.live);
    await waitFor('connected again', () => channel.health().connected);
    assert.ok(channel.health().reconnects > reconnectsBefore);
    const start = h.inbound.length;
    fake.userMessage({ content: 'still there?' });
    const msg = await nextInbound(h, start + 1);
    assert.equal(msg.text, 'still there?');

    const identifies = fake.gateway.identifies;
    fake.gateway.drop(1000);
    await waitFor('a new session identified', () => fake.gateway.identifies > identifies && fake.gateway.live);
    await waitFor('connected again', () => channel.health().connected);
    fake.userMessage({ content: 'and now?' });
    assert.equal((await nextInbound(h, start + 2)).text, 'and now?');
  });
});

describe('Discord channel with a bad token', () => {
  test('REST 401 at login: connect resolves, the channel is down with an actionable error', async () => {
    const fake = await FakeDiscord.start();
    const h = harness();
    const channel = channelFor(fake, h, 'wrong-token');
    try {
      await channel.connect(async () => h.nextReceipt({} as InboundMessage));
      const health = channel.health();
      assert.equal(health.connected, false);
      assert.match(health.error ?? '', /rejected the bot token.*DISCORD_BOT_TOKEN/);
      assert.equal(h.logLines.filter((l) => l.includes('"level":50')).length, 1, 'one error line');
      assert.equal(fake.gateway.identifies, 0);
      await assert.rejects(channel.send({ chatId: fake.guild.channelId, text: 'x' }), (err: Error) => err instanceof PermanentSendError && /rejected the bot token/.test(err.message));
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });

  test('no token at all: connect resolves at once and says how to store one', async () => {
    const h = harness();
    const config = discordConfigSchema.parse({ enabled: true, apiBase: 'http://127.0.0.1:9/api' });
    const channel = new DiscordChannel(config, { token: '' }, h.ctx);
    await channel.connect(async () => h.nextReceipt({} as InboundMessage));
    assert.equal(channel.health().connected, false);
    assert.match(channel.health().error ?? '', /enclave secrets set DISCORD_BOT_TOKEN/);
  });

  for (const [code, reason] of [
    [4004, /rejected the bot token/],
    [4014, /Message Content Intent/],
  ] as const) {
    test(`gateway close ${code} at login: connect resolves, no retry, one actionable error`, async () => {
      const fake = await FakeDiscord.start();
      const h = harness();
      const channel = channelFor(fake, h);
      fake.gateway.refuseIdentifyWith = code;
      try {
        await channel.connect(async () => h.nextReceipt({} as InboundMessage));
        assert.equal(fake.gateway.identifies, 1, 'no retry');
        const health = channel.health();
        assert.equal(health.connected, false);
        assert.match(health.error ?? '', reason);
        assert.equal(h.logLines.filter((l) => l.includes('"level":50')).length, 1, 'one error line');
      } finally {
        await channel.disconnect();
        await fake.close();
      }
    });
  }

  test('a token revoked while connected (close 4004) stops the channel', async () => {
    const fake = await FakeDiscord.start();
    const h = harness();
    const channel = channelFor(fake, h);
    try {
      await channel.connect(async () => h.nextReceipt({} as InboundMessage));
      assert.equal(channel.health().connected, true);
      fake.gateway.drop(4004);
      const error = await waitFor('the channel to fail', () => channel.health().error);
      assert.match(error, /rejected the bot token/);
      assert.equal(channel.health().connected, false);
      assert.equal(fake.gateway.resumes + fake.gateway.identifies, 1, 'discord.js did not reconnect');
      assert.equal(channel.health().reconnects, 0);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });
});

describe('Discord channel when Discord fails for a while', () => {
  test('connect() returns after the first failed login; retries in the background connect later and are counted', async () => {
    const fake = await FakeDiscord.start();
    const h = harness();
    const channel = channelFor(fake, h);
    for (let i = 0; i < 6; i++) fake.failNext('GET', /^\/gateway\/bot$/, { status: 502, body: { message: 'bad gateway' } });
    try {
      await channel.connect(async () => h.nextReceipt({} as InboundMessage));
      const early = channel.health();
      assert.equal(early.connected, false);
      assert.match(early.error ?? '', /Discord login failed.*retrying/);
      assert.equal(early.reconnects, 0);
      await waitFor('connected by a background retry', () => channel.health().connected);
      assert.equal(channel.health().error, undefined);
      assert.equal(channel.health().reconnects, 6, 'each retry is counted');
      assert.equal(fake.calls('GET', /^\/gateway\/bot$/).length, 7);
      assert.equal(h.logLines.filter((l) => /Discord login failed.*retrying/.test(l)).length, 1, 'the same reason is logged once, not at every retry');
      await waitFor('slash commands registered after the late login', () => fake.calls('PUT', /\/commands$/).length === 1);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });

  test('disconnect() stops the background login retries', async () => {
    const fake = await FakeDiscord.start();
    const h = harness();
    const channel = channelFor(fake, h);
    for (let i = 0; i < 1000; i++) fake.failNext('GET', /^\/gateway\/bot$/, { status: 502, body: { message: 'bad gateway' } });
    try {
      await channel.connect(async () => h.nextReceipt({} as InboundMessage));
      await waitFor('background retries', () => channel.health().reconnects >= 2);
      await channel.disconnect();
      const calls = fake.calls('GET', /^\/gateway\/bot$/).length;
      const reconnects = channel.health().reconnects;
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(fake.calls('GET', /^\/gateway\/bot$/).length <= calls + 1, 'no login after disconnect (one may have been on its way)');
      assert.equal(channel.health().reconnects, reconnects);
      assert.equal(channel.health().connected, false);
    } finally {
      await channel.disconnect();
      await fake.close();
    }
  });

  test('a send before the login succeeded is a plain Error, retried later by the outbox', async () => {
    const h = harness();
    const config = discordConfigSchema.parse({ enabled: true, apiBase: 'http://127.0.0.1:9/api' });
    const channel = new DiscordChannel(config, { token: 'some-token' }, h.ctx);
    await assert.rejects(channel.send({ chatId: '1', text: 'x' }), (err: Error) => !(err instanceof PermanentSendError) && /not logged in yet/.test(err.message));
  });
});

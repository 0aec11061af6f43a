import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Channel, InboundMessage, InboundReceipt } from '../../channels/channel.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { SlackChannel } from '../../channels/slack/slack-channel.js';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { MessageStore, type StoredMessage } from '../../src/core/message-store.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { packageRoot } from '../../src/paths.js';
import { FakeSlack, type SlackEvent } from '../fakes/fake-slack.js';
import { FakeTelegram, type FakeUpdate } from '../fakes/fake-telegram.js';
import { waitFor } from '../helpers/wait.js';

function fixture<T>(platform: string, name: string): T {
  return JSON.parse(readFileSync(join(packageRoot(), 'test', 'channels', 'fixtures', platform, name), 'utf8')) as T;
}

function context() {
  const state = new Map<string, string>();
  return { log: silentLogger(), state: { get: (k: string) => state.get(k), set: (k: string, v: string) => void state.set(k, v) }, assistantName: 'Enclave' };
}

/**
 * What the host does with a conversation's messages: stores them (real SQLite), claims them for a
 * turn, and writes the turn's reply and a message without a reply target (a send_message, a
 * budget notice) to the outbox with the last message's thread, as the turn executor does.
 */
function hostLike(t: TestContext, channel: Channel) {
  const db = openDatabase(':memory:');
  const store = new MessageStore(db);
  const outbox = new Outbox(db, new Map([[channel.name, channel]]), silentLogger());
  t.after(() => outbox.close());
  const received: InboundMessage[] = [];
  const handler = async (msg: InboundMessage): Promise<InboundReceipt> => {
    received.push(msg);
    store.insert(msg, 'team', 'queued');
    return { status: 'queued', settled: Promise.resolve('none') };
  };
  let turns = 0;
  async function answer(): Promise<StoredMessage> {
    const claimed = store.claimQueued('team');
    const last = claimed.at(-1)!;
    turns += 1;
    const target = { group: 'team', channel: last.channel, chatId: last.chatId, threadId: last.threadId };
    outbox.add({ ...target, text: `answer ${turns}`, replyTo: last.platformId, dedupeKey: `turn:${turns}` });
    outbox.add({ ...target, text: `notice ${turns}`, dedupeKey: `turn:${turns}:msg:1` });
    await outbox.flush();
    return last;
  }
  return { handler, received, answer };
}

test('Telegram forum topics: replies and messages without a reply target go to the topic, General stays General', async (t) => {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: fake.apiRoot, rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 10 } });
  const channel = new TelegramChannel(config, { token: fake.token }, context());
  const host = hostLike(t, channel);
  await channel.connect(host.handler);
  t.after(() => channel.disconnect());
  const push = (name: string) => fake.pushUpdate(fixture<Omit<FakeUpdate, 'update_id'>>('telegram', name));
  const sentText = (text: string) => waitFor(`"${text}" sent`, () => fake.sent.find((m) => m.text === text));

  push('t12-forum-reply-to-bot-topic-root.json');
  await waitFor('the topic message', () => host.received.length === 1);
  const inTopic = await host.answer();
  assert.equal(inTopic.threadId, '30', 'the topic is stored with the message');
  for (const text of ['answer 1', 'notice 1']) {
    const sent = await sentText(text);
    assert.equal(sent.chatId, '-1001854699958');
    assert.equal(sent.params.message_thread_id, 30, `${text} went to topic 30`);
  }
  await channel.setTyping(inTopic.chatId, true, inTopic.threadId);
  assert.equal(fake.callsTo('sendChatAction').at(-1)?.params.message_thread_id, 30, '"typing..." shows in the topic too');

  push('t16-forum-topic-created.json');
  push('t17-forum-topic-message.json');
  await waitFor('the message in the new topic', () => host.received.length === 2);
  assert.equal(host.received[1]!.text, 'blah', 'the service message creating the topic is not handed on');
  assert.equal((await host.answer()).threadId, '4');
  for (const text of ['answer 2', 'notice 2']) assert.equal((await sentText(text)).params.message_thread_id, 4);
  assert.equal((await sentText('answer 2')).replyTo, 5, 'the answer still replies to the message');

  push('t13-forum-general-untriggered.json');
  await waitFor('the General message', () => host.received.length === 3);
  assert.equal((await host.answer()).threadId, undefined);
  for (const text of ['answer 3', 'notice 3']) assert.equal((await sentText(text)).params.message_thread_id, undefined, 'General takes no topic id');
});

test('Slack threads: a DM thread and a channel thread are answered in their thread, with and without a reply target', async (t) => {
  const fake = await FakeSlack.start({ botUserId: 'U0LAN0Z89', botId: 'B0PROBE01' });
  t.after(() => fake.close());
  const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
  const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, context(), { sendIntervalMs: 1, sendBurst: 10 });
  const host = hostLike(t, channel);
  await channel.connect(host.handler);
  t.after(() => channel.disconnect());
  const url = channel.receiverUrl()!;

  for (const [name, chat] of [
    ['s05-im-owner-thread.json', 'D111'],
    ['s06-channel-thread-reply-to-bot.json', 'C111'],
  ] as const) {
    const { event } = fixture<{ event: SlackEvent & { thread_ts: string } }>('slack', name);
    const count = host.received.length;
    assert.equal((await fake.postEvent(url, event)).status, 200);
    await waitFor(`${name} handed on`, () => host.received.length === count + 1);
    const last = await host.answer();
    assert.equal(last.threadId, event.thread_ts, 'the thread is stored with the message');
    const posts = fake.posted.filter((p) => p.channel === chat);
    assert.deepEqual(
      posts.map((p) => [p.text, p.thread_ts]),
      [
        [`answer ${count + 1}`, event.thread_ts],
        [`notice ${count + 1}`, event.thread_ts],
      ],
    );
  }
  assert.equal(host.received[1]!.replyToBot, true, "s06 replies in the bot's thread");
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Channel, LiveReplyOptions, LiveTarget } from '../../channels/channel.js';
import { discordConfigSchema } from '../../channels/discord/config.js';
import { DiscordChannel } from '../../channels/discord/discord-channel.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { plainToSlack } from '../../channels/slack/mrkdwn.js';
import { SlackChannel } from '../../channels/slack/slack-channel.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { FakeDiscord } from '../fakes/fake-discord.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { ManualTime } from '../helpers/manual-time.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { waitFor } from '../helpers/wait.js';

const REPLY = 'Step one is done.\n\n```sh\nmake all\n```\nAll good.';

interface PlatformView {
  posts(): number;
  /** The message's text now, by the id the live reply got for it. */
  current(id: string): string | undefined;
  edits(): string[];
}

/** The same story on every platform: live edits in order, then the outbox turns the message into the stored reply. */
async function liveStory(t: TestContext, channel: Channel, target: LiveTarget, view: PlatformView, expectFinal: string): Promise<void> {
  const time = new ManualTime();
  const timers = new ManualTimers();
  const posted: string[] = [];
  const options: LiveReplyOptions = {
    mode: 'edit',
    editIntervalMs: 1000,
    minBlockChars: 50,
    progress: true,
    clock: time.clock,
    timers,
    log: silentLogger(),
    onPosted: (id) => posted.push(id),
    onVisible: () => undefined,
  };
  const display = channel.startLiveReply!(target, options);
  display.show('Step one');
  timers.fireAll();
  await waitFor('the first post', () => posted.length === 1 || undefined);
  for (const text of ['Step one is', 'Step one is done.']) {
    display.show(text);
    time.advance(1000);
    timers.fireAll();
    await waitFor(`the edit to "${text}"`, () => view.current(posted[0]!) === text || undefined);
  }
  assert.deepEqual(view.edits(), ['Step one is', 'Step one is done.'], 'edits arrive in order');
  const shown = await display.close();
  assert.equal(shown.mode, 'edit');

  const db = openDatabase(':memory:');
  const outbox = new Outbox(db, new Map([[channel.name, channel]]), silentLogger());
  t.after(() => outbox.close());
  outbox.add({ group: 'g', channel: channel.name, chatId: target.chatId, text: REPLY, dedupeKey: 'turn:x', live: { edit: shown.messageIds } });
  await outbox.flush();
  assert.equal(outbox.unsentCount(), 0);
  assert.equal(view.posts(), 1, 'the answer was not posted a second time');
  assert.equal(view.current(posted[0]!), expectFinal, 'the message ends as the stored reply, code fence intact');
}

test('Discord: a live reply is one message edited through discord.js, finished by the outbox', async (t) => {
  const fake = await FakeDiscord.start({ heartbeatIntervalMs: 300 });
  const state = new Map<string, string>();
  const channel = new DiscordChannel(discordConfigSchema.parse({ enabled: true, apiBase: fake.apiBase }), { token: fake.token }, {
    log: silentLogger(),
    state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) },
    assistantName: 'Enclave',
  });
  await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
  t.after(async () => {
    await channel.disconnect();
    await fake.close();
  });
  await waitFor('Discord connected', () => channel.health().connected || undefined);
  const chatId = fake.guild.channelId;
  await liveStory(t, channel, { chatId }, {
    posts: () => fake.sentMessages(chatId).length,
    current: (id) => fake.contentOf(id),
    edits: () => fake.edits.map((e) => e.content),
  }, REPLY);
});

test('Slack: a live reply is one message updated with chat.update through bolt, finished by the outbox', async (t) => {
  const fake = await FakeSlack.start();
  const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
  const channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, {
    log: silentLogger(),
    state: { get: () => undefined, set: () => undefined },
    assistantName: 'Enclave',
  }, { sendIntervalMs: 1 });
  await channel.connect(async () => ({ status: 'ignored', settled: Promise.resolve('none') }));
  t.after(async () => {
    await channel.disconnect();
    await fake.close();
  });
  await waitFor('Slack connected', () => channel.health().connected || undefined);
  await liveStory(t, channel, { chatId: 'C0LIVE' }, {
    posts: () => fake.posted.length,
    current: (ts) => fake.posted.find((m) => m.ts === ts)?.text,
    edits: () => fake.updates.map((u) => u.text),
  }, plainToSlack(REPLY));
});

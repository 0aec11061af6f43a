import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SlackChannel } from '../../channels/slack/slack-channel.js';
import { MessageStore } from '../../src/core/message-store.js';
import type { RecordedRequest } from '../fakes/fake-model.js';
import { FAKE_BOT } from '../fakes/fake-whatsapp.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarnessBeside } from '../helpers/harness.js';
import { startPlatformFakes } from '../helpers/platform-fakes.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

const TELEGRAM_CHAT = -1001000000001;
const TELEGRAM_UNMAPPED_CHAT = -1001000000999;
const SLACK_CHANNEL = 'C0ALLCHAN1';
const SLACK_ALICE = 'UALICE001';
const WHATSAPP_GROUP = '120363000000000001@g.us';
const WHATSAPP_ALICE = '4915112345678@s.whatsapp.net';
/** How WhatsApp writes a mention of the bot: its number, no device suffix. */
const WHATSAPP_BOT_JID = '15550001111@s.whatsapp.net';
/** Group -> how its platform names the person asking (group-chat turns carry "name: text"). */
const ASKER: Record<string, string> = { 'team-telegram': 'Alice', 'team-discord': 'Alice', 'team-slack': 'alice', 'team-whatsapp': 'Alice' };
const GROUPS = Object.keys(ASKER);

function groupYaml(chat: string): string {
  return `chats: ["${chat}"]\nrequireTrigger: true\nmodel: fake-model\n`;
}

interface ChatMessage {
  role: string;
  content: string;
}

function messagesOf(req: RecordedRequest): ChatMessage[] {
  return req.body.messages as ChatMessage[];
}

/** The group a model call was made for, as its system prompt names it. */
function groupOf(req: RecordedRequest): string {
  return /for the group "([^"]+)"/.exec(messagesOf(req)[0]?.content ?? '')?.[1] ?? 'no group';
}

function lastUserText(req: RecordedRequest): string {
  return messagesOf(req).filter((m) => m.role === 'user').at(-1)?.content ?? '';
}

test('Telegram, Discord, Slack and WhatsApp run in one host: each chat reaches its own group and gets its answer', { skip }, async (t) => {
  const fakes = await startPlatformFakes();
  const { telegram, discord, slack, whatsapp } = fakes;
  const discordChannel = discord.guild.channelId;
  slack.users.set(SLACK_ALICE, 'alice');
  const h = await startHarnessBeside(t, fakes, {
    // Routing is checked here on whole messages; live replies (edits, blocks) have tests of their own.
    enclaveYaml: fakes.enclaveYaml.replaceAll('    enabled: true\n', '    enabled: true\n    streaming: { mode: off }\n'),
    secrets: fakes.secrets,
    groups: {
      'team-telegram': groupYaml(`telegram:${TELEGRAM_CHAT}`),
      'team-discord': groupYaml(`discord:${discordChannel}`),
      'team-slack': groupYaml(`slack:${SLACK_CHANNEL}`),
      'team-whatsapp': groupYaml(`whatsapp:${WHATSAPP_GROUP}`),
    },
    start: { whatsappSocketFactory: whatsapp.makeSocket },
  });
  const app = h.app;
  const model = h.model;
  model.fallback = (req) => ({ content: `answer for ${groupOf(req)}` });
  const store = new MessageStore(app.db);
  const slackReceiver = () => {
    const url = (app.channel('slack') as SlackChannel | undefined)?.receiverUrl();
    assert.ok(url, 'the Slack receiver listens');
    return url;
  };

  await t.test('all four platform channels connect', async () => {
    for (const name of ['telegram', 'discord', 'slack', 'whatsapp']) {
      await waitFor(`${name} connected`, () => app.channel(name)?.health().connected);
    }
    assert.match(slackReceiver(), /^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
  });

  await t.test('one message from each platform at once: every answer comes back on its platform, in its chat', async () => {
    const question = 'what is on today?';
    const fromTelegram = telegram.pushMessage({ chat: { id: TELEGRAM_CHAT, type: 'supergroup', title: 'Telegram team' }, text: `@${telegram.bot.username} ${question}` });
    const fromDiscord = discord.userMessage({ content: `<@${discord.bot.id}> ${question}` });
    const slackPost = slack.postEvent(slackReceiver(), slack.appMention({ channel: SLACK_CHANNEL, user: SLACK_ALICE, text: `<@${slack.botUserId}> ${question}` }));
    const fromWhatsApp = whatsapp.deliver({ chat: WHATSAPP_GROUP, sender: WHATSAPP_ALICE, pushName: 'Alice', text: `@15550001111 ${question}`, mentions: [WHATSAPP_BOT_JID] });
    assert.equal((await slackPost).status, 200, 'Slack event acknowledged');

    await Promise.all([telegram.waitForSent(1), discord.waitForSentMessages(discordChannel, 1), slack.waitForPosts(1), whatsapp.waitForSends(1)]);

    assert.deepEqual(
      telegram.sent.map((m) => ({ chatId: m.chatId, text: m.text, replyTo: m.replyTo })),
      [{ chatId: String(TELEGRAM_CHAT), text: 'answer for team-telegram', replyTo: fromTelegram.messageId }],
    );
    const discordPosts = discord.calls('POST', /^\/channels\/\d+\/messages$/);
    assert.deepEqual(
      discordPosts.map((r) => ({ path: r.path, content: r.body?.content, replyTo: (r.body?.message_reference as { message_id?: string } | undefined)?.message_id })),
      [{ path: `/channels/${discordChannel}/messages`, content: 'answer for team-discord', replyTo: fromDiscord }],
    );
    assert.deepEqual(
      slack.posted.map((m) => ({ channel: m.channel, text: m.text })),
      [{ channel: SLACK_CHANNEL, text: 'answer for team-slack' }],
    );
    assert.deepEqual(
      whatsapp.sent.map((m) => ({ jid: m.jid, text: m.text, quoted: m.quoted?.key?.id })),
      [{ jid: WHATSAPP_GROUP, text: 'answer for team-whatsapp', quoted: fromWhatsApp.key.id }],
    );

    assert.deepEqual(model.requests.map(groupOf).sort(), [...GROUPS].sort(), 'one model call per group');
    for (const req of model.requests) assert.equal(lastUserText(req), `${ASKER[groupOf(req)]}: ${question}`, `${groupOf(req)} got the text without the bot's mention`);
    const containerIds = GROUPS.map((g) => app.containers.state(g).id);
    assert.equal(new Set(containerIds).size, 4, 'each group ran in a container of its own');
  });

  await t.test('a message in an unmapped chat reaches no agent and leaves a denial in the audit log', async () => {
    const calls = model.requests.length;
    const chat = `telegram:${TELEGRAM_UNMAPPED_CHAT}`;
    telegram.pushMessage({ chat: { id: TELEGRAM_UNMAPPED_CHAT, type: 'supergroup', title: 'Strangers' }, text: `@${telegram.bot.username} hello, who are you?` });
    const denial = await waitFor('a denial row for the unmapped chat', () => app.audit.tail(50, { kind: 'denial' }).find((r) => r.detail.chat === chat));
    assert.equal(denial.detail.reason, 'unregistered_chat');
    assert.equal(denial.group, undefined);
    // The host (not an agent) says once that the chat is not set up, because the bot was mentioned.
    const notice = await waitFor('the set-up notice', () => telegram.sent.find((m) => m.chatId === String(TELEGRAM_UNMAPPED_CHAT)));
    assert.match(notice.text, /not set up for the assistant/);
    assert.equal(model.requests.length, calls, 'no model call');
    assert.equal(telegram.sent.length, 2, 'nothing else was sent on Telegram');
  });

  await t.test("the bot's own messages and other bots' messages are ignored; the trigger word is answered", async () => {
    const calls = model.requests.length;
    const url = slackReceiver();
    const own = slack.message({ channel: SLACK_CHANNEL, user: slack.botUserId, bot_id: slack.botId, text: `<@${slack.botUserId}> echo of myself` });
    const otherBot = slack.message({ channel: SLACK_CHANNEL, user: 'UOTHERBOT1', bot_id: 'BOTHER0001', subtype: 'bot_message', text: `<@${slack.botUserId}> ping from another bot` });
    assert.equal((await slack.postEvent(url, own)).status, 200);
    assert.equal((await slack.postEvent(url, otherBot)).status, 200);
    // A person's message after them: once it is answered, the bots' messages have long passed the router.
    const human = slack.message({ channel: SLACK_CHANNEL, user: SLACK_ALICE, text: '@enclave are you there?' });
    assert.equal((await slack.postEvent(url, human)).status, 200);

    await slack.waitForPosts(2);
    assert.deepEqual(slack.posted.slice(1).map((m) => ({ channel: m.channel, text: m.text })), [{ channel: SLACK_CHANNEL, text: 'answer for team-slack' }]);
    assert.equal(model.requests.length, calls + 1, 'one model call: the person, not the bots');
    const call = model.requests.at(-1)!;
    assert.equal(lastUserText(call), 'alice: @enclave are you there?');
    assert.ok(!messagesOf(call).some((m) => /echo of myself|ping from another bot/.test(m.content)), 'no bot message reached the agent');
    assert.equal(store.find('slack', SLACK_CHANNEL, String(otherBot.ts)), undefined, 'the other bot was dropped before storage');
  });

  await t.test('a group message without the trigger is not answered; a reply to the bot is', async () => {
    const calls = model.requests.length;
    const untriggered = whatsapp.deliver({ chat: WHATSAPP_GROUP, sender: WHATSAPP_ALICE, pushName: 'Alice', text: 'just chatting among ourselves' });
    const stored = await waitFor('the untriggered message stored', () => store.find('whatsapp', WHATSAPP_GROUP, untriggered.key.id!));
    assert.equal(stored.status, 'ignored');

    const botAnswer = whatsapp.sent[0]!;
    const reply = whatsapp.deliver({ chat: WHATSAPP_GROUP, sender: WHATSAPP_ALICE, pushName: 'Alice', text: 'and tomorrow?', quoted: { id: botAnswer.id, author: FAKE_BOT.id } });
    await whatsapp.waitForSends(2);
    assert.deepEqual(
      whatsapp.sent.slice(1).map((m) => ({ jid: m.jid, text: m.text, quoted: m.quoted?.key?.id })),
      [{ jid: WHATSAPP_GROUP, text: 'answer for team-whatsapp', quoted: reply.key.id }],
    );
    assert.equal(model.requests.length, calls + 1, 'one model call, for the reply');
    const call = model.requests.at(-1)!;
    assert.equal(groupOf(call), 'team-whatsapp');
    assert.equal(lastUserText(call), 'Alice: and tomorrow?');
    assert.ok(!messagesOf(call).some((m) => m.content.includes('just chatting')), 'the untriggered message was not handed to the agent');
  });

  await t.test('no platform received anything meant for another', () => {
    assert.deepEqual(discord.sentMessages(discordChannel), ['answer for team-discord']);
    assert.equal(discord.calls('POST', /^\/channels\/\d+\/messages$/).length, 1);
    assert.ok(slack.posted.every((m) => m.text === 'answer for team-slack'));
    assert.ok(whatsapp.sent.every((m) => m.text === 'answer for team-whatsapp'));
    assert.deepEqual(telegram.sent.filter((m) => m.text.startsWith('answer for')).map((m) => m.text), ['answer for team-telegram']);
  });
});

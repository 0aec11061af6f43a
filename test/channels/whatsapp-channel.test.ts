import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DisconnectReason } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { PermanentSendError, RetryAfterError, type ChannelContext, type InboundMessage } from '../../channels/channel.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { BAD_SESSION_WIPE_AFTER, LOGGED_OUT_ERROR } from '../../channels/whatsapp/disconnect.js';
import { openSessionStore } from '../../channels/whatsapp/session-store.js';
import { WhatsAppChannel } from '../../channels/whatsapp/whatsapp-channel.js';
import { FAKE_BOT, FakeWhatsApp, whatsappError } from '../fakes/fake-whatsapp.js';
import { waitFor } from '../helpers/wait.js';

const BOT_NUMBER = '15550001111';
const BOT_LID = '99887766554433';
const ALICE_NUMBER = '491701234567';
const ALICE = `${ALICE_NUMBER}@s.whatsapp.net`;
const ALICE_LID = '123456789012345@lid';
const GROUP = '120363040000000001@g.us';
const HOUR = 3_600_000;

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Setup {
  fake: FakeWhatsApp;
  channel: WhatsAppChannel;
  inbound: InboundMessage[];
  errors: string[];
  authDir: string;
}

async function setup(config: Record<string, unknown> = {}, opts: { connect?: boolean; autoOpen?: boolean; time?: { clock: () => number; wait: (ms: number) => Promise<void> } } = {}): Promise<Setup> {
  const home = mkdtempSync(join(tmpdir(), 'enclave-wa-'));
  dirs.push(home);
  const authDir = join(home, 'data', 'whatsapp');
  const fake = await FakeWhatsApp.start();
  fake.autoOpen = opts.autoOpen ?? true;
  const errors: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void (JSON.parse(line).level >= 50 && errors.push(JSON.parse(line).msg)) });
  const state = new Map<string, string>();
  const ctx: ChannelContext = { log, state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave', clock: opts.time?.clock };
  const parsed = whatsappConfigSchema.parse({ enabled: true, reconnect: { baseMs: 5, maxMs: 20 }, rateLimit: { intervalMs: 0, burst: 1 }, ...config });
  const channel = new WhatsAppChannel(parsed, {}, ctx, { authDir, makeSocket: fake.makeSocket, onQr: () => undefined, wait: opts.time?.wait });
  const inbound: InboundMessage[] = [];
  if (opts.connect ?? true) {
    await channel.connect(async (msg) => {
      inbound.push(msg);
      return { status: 'queued', settled: Promise.resolve('none') };
    });
  }
  return { fake, channel, inbound, errors, authDir };
}

/** Delivers the messages, then a marker, and returns what reached the host before the marker. */
async function deliverAll(s: Setup, ...messages: Parameters<FakeWhatsApp['deliver']>[0][]): Promise<InboundMessage[]> {
  const before = s.inbound.length;
  for (const m of messages) s.fake.deliver(m);
  s.fake.deliver({ chat: ALICE, text: 'marker', id: `marker-${before}` });
  await waitFor('the marker message', () => s.inbound.some((m) => m.platformId === `marker-${before}`));
  return s.inbound.slice(before, -1);
}

test('config defaults: disabled, WhatsApp Web endpoint, paced sends; unknown keys are refused', () => {
  const c = whatsappConfigSchema.parse({});
  assert.equal(c.enabled, false);
  assert.equal(c.socketUrl, 'wss://web.whatsapp.com/ws/chat');
  assert.deepEqual(c.rateLimit, { intervalMs: 2000, burst: 2 });
  assert.throws(() => whatsappConfigSchema.parse({ token: 'x' }));
  assert.throws(() => whatsappConfigSchema.parse({ socketUrl: 'http://example.com' }));
});

test('connects, keeps the session folder private, and reports health', async () => {
  const s = await setup();
  await waitFor('connected', () => s.channel.health().connected);
  assert.equal(statSync(s.authDir).mode & 0o777, 0o700);
  await waitFor('saved creds', () => readdirSync(s.authDir).includes('creds.json'));
  assert.equal(statSync(join(s.authDir, 'creds.json')).mode & 0o777, 0o600);
  const h = s.channel.health();
  assert.equal(h.reconnects, 0);
  assert.equal(h.error, undefined);
  assert.ok(typeof h.lastEventAt === 'number');
  await s.channel.disconnect();
  assert.equal(s.fake.socket.ended, true);
  assert.equal(s.channel.health().connected, false);
});

test('a direct message becomes an InboundMessage; the sender is the bare phone number, as owners and allowFrom write it', async () => {
  const s = await setup();
  const [m] = await deliverAll(s, { chat: ALICE, text: 'hello bot', id: 'ABC1', pushName: 'Alice', timestamp: 1_700_000_000 });
  assert.deepEqual(m, {
    channel: 'whatsapp',
    chatId: ALICE,
    platformId: 'ABC1',
    senderId: ALICE_NUMBER,
    senderName: 'Alice',
    text: 'hello bot',
    isDirect: true,
    mentionsBot: false,
    replyToBot: false,
    mentions: [],
    fromBot: false,
    timestamp: 1_700_000_000_000,
  });
  await s.channel.disconnect();
});

test('group messages: sender is the participant; a mention of the bot (phone or LID) is flagged and stripped', async () => {
  const s = await setup();
  s.fake.socket.ev.emit('groups.upsert', [{ id: GROUP, subject: 'Family', participants: [], owner: undefined }]);
  const [plain, byNumber, byLid, other] = await deliverAll(
    s,
    { chat: GROUP, sender: ALICE, text: 'just chatting' },
    { chat: GROUP, sender: ALICE, text: `@${BOT_NUMBER} what is the weather?`, mentions: [`${BOT_NUMBER}@s.whatsapp.net`] },
    { chat: GROUP, sender: '5511999990000@s.whatsapp.net', text: `hey @${BOT_LID}  please help`, mentions: [`${BOT_LID}@lid`] },
    { chat: GROUP, sender: ALICE, text: '@4915112345678 look', mentions: ['4915112345678@s.whatsapp.net'] },
  );
  assert.equal(plain!.isDirect, false);
  assert.equal(plain!.chatId, GROUP);
  assert.equal(plain!.senderId, ALICE_NUMBER);
  assert.equal(plain!.mentionsBot, false);
  assert.equal(plain!.chatTitle, 'Family');
  assert.equal(byNumber!.mentionsBot, true);
  assert.equal(byNumber!.text, 'what is the weather?');
  assert.deepEqual(byNumber!.mentions, [`${BOT_NUMBER}@s.whatsapp.net`]);
  assert.equal(byLid!.mentionsBot, true);
  assert.equal(byLid!.text, 'hey please help');
  assert.equal(other!.mentionsBot, false);
  assert.equal(other!.text, '@4915112345678 look');
  await s.channel.disconnect();
});

test('LID senders are known by their phone number when Baileys gives it (remoteJidAlt / participantAlt), else by the LID', async () => {
  const s = await setup();
  const [dmWithPn, dmLidOnly, groupWithPn, groupLidOnly, withDevice] = await deliverAll(
    s,
    { chat: ALICE_LID, chatAlt: ALICE, text: 'dm by lid, number known' },
    { chat: '555666777888999@lid', text: 'dm by lid only' },
    { chat: GROUP, sender: ALICE_LID, senderAlt: ALICE, text: 'group by lid, number known' },
    { chat: GROUP, sender: '555666777888999@lid', text: 'group by lid only' },
    { chat: GROUP, sender: '491701234567:12@s.whatsapp.net', text: 'from a linked device' },
  );
  assert.deepEqual(
    [dmWithPn, dmLidOnly, groupWithPn, groupLidOnly, withDevice].map((m) => [m!.chatId, m!.senderId, m!.isDirect]),
    [
      [ALICE_LID, ALICE_NUMBER, true],
      ['555666777888999@lid', '555666777888999@lid', true],
      [GROUP, ALICE_NUMBER, false],
      [GROUP, '555666777888999@lid', false],
      [GROUP, ALICE_NUMBER, false],
    ],
  );
  assert.equal(groupLidOnly!.senderName, '555666777888999', 'without a push name the sender is named by the id');
  const [ownLid] = await deliverAll(s, { chat: GROUP, sender: FAKE_BOT.lid, text: 'sent by the bot under its LID' });
  assert.equal(ownLid!.fromBot, true);
  await s.channel.disconnect();
});

test('media the adapter cannot fetch (no media key): the caption still passes as text; without one nothing does', async () => {
  const s = await setup();
  const doc = s.fake.build({ chat: ALICE, text: '' });
  doc.message = { documentWithCaptionMessage: { message: { documentMessage: { caption: 'the contract', fileName: 'contract.pdf' } } } };
  const voice = s.fake.build({ chat: ALICE });
  voice.message = { audioMessage: { ptt: true } };
  const passed = await deliverAll(s, { chat: ALICE, image: { caption: 'look at this' } }, { chat: ALICE, image: {} }, doc, voice);
  assert.deepEqual(passed.map((m) => [m.text, m.attachments]), [['look at this', undefined], ['the contract', undefined]]);
  await s.channel.disconnect();
});

test('replies: to the bot by author or by a message id it sent; to someone else is not', async () => {
  const s = await setup();
  await s.channel.send({ chatId: ALICE, text: 'I am the bot' });
  const [sent] = await s.fake.waitForSends(1);
  const [toBot, toOwnId, toOther] = await deliverAll(
    s,
    { chat: GROUP, sender: ALICE, text: 'thanks', quoted: { id: 'Q1', author: FAKE_BOT.id } },
    { chat: ALICE, text: 'and this?', quoted: { id: sent!.id } },
    { chat: GROUP, sender: ALICE, text: 'agreed', quoted: { id: 'Q2', author: '5511999990000@s.whatsapp.net' } },
  );
  assert.equal(toBot!.replyToBot, true);
  assert.equal(toBot!.replyTo, 'Q1');
  assert.equal(toOwnId!.replyToBot, true);
  assert.equal(toOwnId!.replyTo, sent!.id);
  assert.equal(toOther!.replyToBot, false);
  assert.equal(toOther!.replyTo, 'Q2');
  await s.channel.disconnect();
});

test('own messages are flagged fromBot; status, reactions, protocol messages and history appends never reach the host', async () => {
  const s = await setup();
  const reaction = s.fake.build({ chat: ALICE });
  reaction.message = { reactionMessage: { text: '👍', key: { id: 'X' } } };
  const revoke = s.fake.build({ chat: ALICE });
  revoke.message = { protocolMessage: { type: 0 } };
  s.fake.deliver({ chat: ALICE, text: 'old history' }, 'append');
  const got = await deliverAll(s, { chat: ALICE, text: 'sent from my phone', fromMe: true }, { chat: 'status@broadcast', sender: ALICE, text: 'my story' }, reaction, revoke);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.fromBot, true);
  assert.equal(got[0]!.text, 'sent from my phone');
  await s.channel.disconnect();
});

test('/ask becomes a mention of the bot; host commands pass through as text', async () => {
  const s = await setup();
  const [ask, status] = await deliverAll(s, { chat: GROUP, sender: ALICE, text: '/ask what time is it' }, { chat: GROUP, sender: ALICE, text: '/status' });
  assert.equal(ask!.text, 'what time is it');
  assert.equal(ask!.mentionsBot, true);
  assert.equal(status!.text, '/status');
  assert.equal(status!.mentionsBot, false);
  await s.channel.disconnect();
});

test('send quotes the message it replies to when it was seen; typing sends composing / paused', async () => {
  const s = await setup();
  const [question] = await deliverAll(s, { chat: GROUP, sender: ALICE, text: 'question?', id: 'QQ1' });
  await s.channel.send({ chatId: GROUP, text: 'answer', replyTo: question!.platformId });
  await s.channel.send({ chatId: GROUP, text: 'no quote', replyTo: 'never-seen' });
  const [quoted, plain] = await s.fake.waitForSends(2);
  assert.equal(quoted!.jid, GROUP);
  assert.equal(quoted!.text, 'answer');
  assert.equal(quoted!.quoted?.key.id, 'QQ1');
  assert.equal(plain!.quoted, undefined);
  await s.channel.setTyping(GROUP, true);
  await s.channel.setTyping(GROUP, false);
  assert.deepEqual(s.fake.socket.presences, [
    { type: 'composing', jid: GROUP },
    { type: 'paused', jid: GROUP },
  ]);
  await s.channel.disconnect();
});

test('send tries once: a transient failure is a plain Error, a rate limit waits, a refusal is permanent with the reason', async () => {
  const s = await setup();
  s.fake.socket.sendFailures.push(whatsappError(DisconnectReason.connectionClosed, 'Connection Closed'));
  await assert.rejects(s.channel.send({ chatId: ALICE, text: 'later' }), (err: Error) => !(err instanceof PermanentSendError) && !(err instanceof RetryAfterError) && /Connection Closed/.test(err.message));
  assert.equal(s.fake.socket.sendAttempts, 1, 'the outbox retries, not the adapter');
  await s.channel.send({ chatId: ALICE, text: 'after a retry' });
  assert.equal(s.fake.sent.at(-1)!.text, 'after a retry');
  s.fake.socket.sendFailures.push(whatsappError(429, 'rate-overlimit'));
  await assert.rejects(s.channel.send({ chatId: ALICE, text: 'slow down' }), (err: Error) => err instanceof RetryAfterError && err.retryAfterMs > 0);
  s.fake.socket.sendFailures.push(whatsappError(400, 'bad-request'));
  await assert.rejects(s.channel.send({ chatId: ALICE, text: 'doomed' }), (err: Error) => err instanceof PermanentSendError && /WhatsApp could not send to 491701234567@s\.whatsapp\.net: bad-request/.test(err.message));
  // The server's refusal of a group the account left: Boom's default 500 status, the error node's code as data.
  s.fake.socket.sendFailures.push(Object.assign(whatsappError(500, 'forbidden'), { data: 403 }));
  await assert.rejects(s.channel.send({ chatId: GROUP, text: 'left' }), (err: Error) => err instanceof PermanentSendError && /forbidden.*not a member of the group/.test(err.message));
  assert.equal(s.fake.socket.sendAttempts, 5, 'each send was tried once');
  await assert.rejects(s.channel.send({ chatId: 'telegram-id', text: 'x' }), (err: Error) => err instanceof PermanentSendError && /not a WhatsApp chat id/.test(err.message));
  await s.channel.disconnect();
});

test('pacing: a burst to one chat goes out in order while another chat is not held up', async () => {
  // Pacing waits only when the test lets it: nothing here depends on how fast the machine is.
  let now = Date.UTC(2026, 0, 15, 12);
  const waiting: (() => void)[] = [];
  const time = { clock: () => now, wait: (ms: number) => new Promise<void>((resolve) => waiting.push(() => ((now += ms), resolve()))) };
  const s = await setup({ rateLimit: { intervalMs: 40, burst: 2 } }, { time });
  const burst = (async () => {
    for (let i = 1; i <= 4; i++) await s.channel.send({ chatId: GROUP, text: `part ${i}` });
  })();
  await waitFor('the burst to wait for its third part', () => waiting.length === 1);
  await s.channel.send({ chatId: ALICE, text: 'meanwhile' });
  assert.deepEqual(s.fake.sent.map((m) => m.text), ['part 1', 'part 2', 'meanwhile'], 'the other chat went out while the burst waited');
  while (s.fake.sent.length < 5) {
    await waitFor('the burst to wait or finish', () => waiting.length > 0 || s.fake.sent.length === 5);
    waiting.shift()?.();
  }
  await burst;
  assert.deepEqual(s.fake.sent.map((m) => m.text), ['part 1', 'part 2', 'meanwhile', 'part 3', 'part 4']);
  await s.channel.disconnect();
});

test('restartRequired reconnects at once (even with an hour of backoff)', async () => {
  const s = await setup({ reconnect: { baseMs: HOUR, maxMs: HOUR } });
  await waitFor('connected', () => s.channel.health().connected);
  s.fake.socket.drop(DisconnectReason.restartRequired, 'Stream Errored (restart required)');
  await s.fake.waitForSocket(2);
  await waitFor('connected again', () => s.channel.health().connected);
  assert.equal(s.channel.health().reconnects, 1);
  assert.equal(s.channel.health().error, undefined);
  await s.channel.disconnect();
});

for (const [name, code] of [
  ['connectionClosed', DisconnectReason.connectionClosed],
  ['connectionLost / timedOut', DisconnectReason.connectionLost],
  ['unavailableService', DisconnectReason.unavailableService],
  ['no status code', undefined],
] as const) {
  test(`${name} reconnects with backoff and counts it`, async () => {
    const s = await setup();
    await waitFor('connected', () => s.channel.health().connected);
    s.fake.autoOpen = false;
    s.fake.socket.drop(code, 'Connection Failure');
    await waitFor('disconnected', () => !s.channel.health().connected);
    assert.match(s.channel.health().error ?? '', /WhatsApp connection lost \(Connection Failure.*\); reconnecting/);
    const second = await s.fake.waitForSocket(2);
    second.drop(code, 'Connection Failure');
    const third = await s.fake.waitForSocket(3);
    third.open();
    await waitFor('connected again', () => s.channel.health().connected);
    assert.equal(s.channel.health().reconnects, 2);
    assert.equal(s.channel.health().error, undefined);
    assert.deepEqual(s.errors, []);
    await s.channel.disconnect();
  });
}

test('loggedOut stops the channel, wipes the session and says what to do', async () => {
  const s = await setup();
  await waitFor('saved creds', () => readdirSync(s.authDir).includes('creds.json'));
  const store = await openSessionStore(s.authDir);
  await store.state.keys.set({ 'pre-key': { '1': { public: Buffer.alloc(32, 1), private: Buffer.alloc(32, 2) } } });
  assert.ok(readdirSync(s.authDir).length >= 2);
  s.fake.socket.drop(DisconnectReason.loggedOut, 'Intentional Logout');
  await waitFor('the error', () => s.channel.health().error);
  assert.deepEqual(s.channel.health(), { connected: false, reconnects: 0, error: LOGGED_OUT_ERROR, lastEventAt: s.channel.health().lastEventAt });
  assert.deepEqual(readdirSync(s.authDir), []);
  assert.equal(statSync(s.authDir).mode & 0o777, 0o700);
  assert.deepEqual(s.errors, [LOGGED_OUT_ERROR]);
  assert.equal(s.fake.sockets.length, 1);
  await assert.rejects(s.channel.send({ chatId: ALICE, text: 'x' }), (err: Error) => err instanceof PermanentSendError && /not connected: WhatsApp logged this device out/.test(err.message));
  await s.channel.disconnect();
});

for (const [name, code, wipes, pattern] of [
  ['connectionReplaced', DisconnectReason.connectionReplaced, false, /Another WhatsApp Web connection.*stop the other Enclave instance/],
  ['forbidden', DisconnectReason.forbidden, false, /refused this account/],
  ['multideviceMismatch', DisconnectReason.multideviceMismatch, true, /enclave pair whatsapp/],
] as const) {
  test(`${name} stops the channel${wipes ? ' and wipes the session' : ', keeping the session'}`, async () => {
    const s = await setup();
    await waitFor('saved creds', () => readdirSync(s.authDir).includes('creds.json'));
    s.fake.socket.drop(code, name);
    await waitFor('the error', () => s.channel.health().error);
    assert.match(s.channel.health().error!, pattern);
    assert.equal(s.channel.health().connected, false);
    assert.equal(readdirSync(s.authDir).includes('creds.json'), !wipes);
    assert.equal(s.errors.length, 1);
    assert.equal(s.fake.sockets.length, 1);
    await s.channel.disconnect();
  });
}

test(`badSession reconnects; ${BAD_SESSION_WIPE_AFTER} in a row wipe the session and start over with a QR`, async () => {
  const s = await setup();
  await waitFor('saved creds', () => readdirSync(s.authDir).includes('creds.json'));
  s.fake.autoOpen = false;
  for (let i = 1; i < BAD_SESSION_WIPE_AFTER; i++) {
    s.fake.sockets[i - 1]!.drop(DisconnectReason.badSession, 'Bad session');
    await s.fake.waitForSocket(i + 1);
    assert.ok(readdirSync(s.authDir).includes('creds.json'), `session kept after ${i} bad-session close(s)`);
  }
  s.fake.socket.drop(DisconnectReason.badSession, 'Bad session');
  const fresh = await s.fake.waitForSocket(BAD_SESSION_WIPE_AFTER + 1);
  assert.equal(fresh.config.auth.creds.me, undefined, 'the new socket starts with a fresh, unlinked session');
  assert.ok(!readdirSync(s.authDir).includes('creds.json'));
  assert.match(s.channel.health().error ?? '', /session was unusable and has been reset/);
  fresh.showQr('2@fresh-ref,noise,identity,adv,1');
  await waitFor('waiting for the scan', () => /not linked yet/.test(s.channel.health().error ?? ''));
  await s.channel.disconnect();
});

test('connect() resolves, without throwing, when the first connection is refused for good', async () => {
  const s = await setup({}, { connect: false, autoOpen: false });
  const connecting = s.channel.connect(async () => ({ status: 'queued', settled: Promise.resolve('none') }));
  const sock = await s.fake.waitForSocket(1);
  sock.drop(DisconnectReason.loggedOut, 'Connection Failure');
  await connecting;
  assert.equal(s.channel.health().error, LOGGED_OUT_ERROR);
  await s.channel.disconnect();
});

test('disconnect() stops reconnecting', async () => {
  const s = await setup({ reconnect: { baseMs: 30, maxMs: 30 } });
  await waitFor('connected', () => s.channel.health().connected);
  s.fake.autoOpen = false;
  s.fake.socket.drop(DisconnectReason.connectionLost, 'lost');
  await s.channel.disconnect();
  const pending = new Promise((r) => setTimeout(r, 100));
  await pending;
  assert.equal(s.fake.sockets.length, 1);
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PermanentSendError, type Channel, type InboundMessage, type OutboundMessage } from '../../channels/channel.js';
import { History } from '../../src/db/history.js';
import { MessageStore } from '../../src/core/message-store.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { InstanceLock } from '../../src/instance-lock.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { waitFor } from '../helpers/wait.js';

const inbound = (platformId: string, chatId = 'c1'): InboundMessage => ({
  channel: 'local', chatId, platformId, senderId: 's', senderName: 'S', text: `m${platformId}`, isDirect: true,
  mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 1,
});

function tempDb() {
  return openDatabase(join(mkdtempSync(join(tmpdir(), 'enc-db-')), 'e.db'));
}

test('the database is WAL, private to its owner, and migrations are idempotent', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'enc-db-')), 'data');
  const db = openDatabase(join(dir, 'e.db'));
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(statSync(join(dir, 'e.db')).mode & 0o777, 0o600);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  db.close();
  const again = openDatabase(join(dir, 'e.db'));
  assert.ok((again.pragma('user_version', { simple: true }) as number) >= 1);
});

test('a redelivered message is a no-op', () => {
  const store = new MessageStore(tempDb());
  assert.ok(store.insert(inbound('1'), 'g', 'queued'));
  assert.equal(store.insert(inbound('1'), 'g', 'queued'), undefined);
  assert.ok(store.insert(inbound('1', 'c2'), 'g', 'queued'), 'same id in another chat is another message');
});

test('a turn claims one chat at a time; interrupted turns are re-queued', () => {
  const store = new MessageStore(tempDb());
  store.insert(inbound('1', 'c1'), 'g', 'queued');
  store.insert(inbound('2', 'c2'), 'g', 'queued');
  store.insert(inbound('3', 'c1'), 'g', 'queued');
  const first = store.claimQueued('g');
  assert.deepEqual(first.map((m) => m.platformId), ['1', '3']);
  assert.deepEqual(store.requeueInterrupted(), ['g']);
  assert.equal(store.countPending('g'), 3);
  assert.ok(store.hasQueued('g'));
});

test('history is per group and /reset starts a new session', () => {
  const history = new History(tempDb());
  history.append('a', [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }]);
  history.append('b', [{ role: 'user', content: 'other group' }]);
  assert.deepEqual(history.recent('a', 10).map((m) => m.content), ['hi', 'hello']);
  assert.deepEqual(history.recent('a', 1).map((m) => m.content), ['hello']);
  history.reset('a');
  assert.deepEqual(history.recent('a', 10), []);
  assert.equal(history.count('b'), 1);
});

test('the outbox sends each reply once, chunked, and keeps what it could not send', async () => {
  const db = tempDb();
  const sent: OutboundMessage[] = [];
  let failing = true;
  const channel: Channel = {
    name: 'fake', maxMessageLength: 10,
    connect: async () => undefined, disconnect: async () => undefined, setTyping: async () => undefined,
    health: () => ({ connected: true, reconnects: 0 }),
    send: async (m) => {
      if (failing) throw new Error('platform down');
      sent.push(m);
    },
  };
  const outbox = new Outbox(db, new Map([['fake', channel]]), silentLogger(), { retryDelayMs: 1, retryLaterMs: 20 });
  outbox.add({ group: 'g', channel: 'fake', chatId: 'c', text: 'first part second part', dedupeKey: 'k1' });
  outbox.add({ group: 'g', channel: 'fake', chatId: 'c', text: 'duplicate', dedupeKey: 'k1' });
  await outbox.flush();
  assert.equal(sent.length, 0);
  assert.equal(outbox.unsentCount(), 1, 'a failed send is kept, not dropped');
  failing = false;
  await Promise.all([outbox.flush(), outbox.flush()]);
  assert.deepEqual(sent.map((m) => m.text), ['first part', 'second', 'part']);
  assert.equal(outbox.unsentCount(), 0);

  failing = true;
  outbox.add({ group: 'g', channel: 'fake', chatId: 'c', text: 'later', dedupeKey: 'k2' });
  await outbox.flush();
  failing = false;
  for (let i = 0; i < 200 && outbox.unsentCount() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(sent.map((m) => m.text).at(-1), 'later', 'retried by itself, with no new message to trigger it');
  await outbox.close();
});

test('the log file is private and never shows a key, however it is logged', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'enc-log-')), 'data', 'enclave.log');
  const key = 'sk-log-canary-0123456789abcdef';
  const log = createLogger({ destination: file, secrets: () => [key] });
  log.info({ apiKey: key, headers: { authorization: `Bearer ${key}` } }, 'structured');
  log.warn(`an upstream said: invalid key ${key}`);
  log.error({ err: { message: `boom ${key}` } }, 'nested');
  const text = readFileSync(file, 'utf8');
  assert.equal(text.split('\n').filter(Boolean).length, 3, 'all three lines were written');
  assert.ok(!text.includes(key), text);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('one instance per ENCLAVE_HOME: a live owner blocks, a dead owner\'s lock is taken over', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'enc-lock-')), 'data', 'enclave.lock');
  const lock = InstanceLock.acquire(file);
  assert.throws(() => InstanceLock.acquire(file), /already runs an Enclave/);
  lock.release();
  writeFileSync(file, `${process.ppid}\n`);
  assert.throws(() => InstanceLock.acquire(file), /another Enclave \(pid \d+\) is already running/);
  writeFileSync(file, '999999999\n');
  InstanceLock.acquire(file).release();
});

test('a reply cut off half-way resumes at the next chunk, and a dead chat holds up no other chat', async () => {
  const db = tempDb();
  const sent: OutboundMessage[] = [];
  let failOn = (_m: OutboundMessage) => false;
  const channel: Channel = {
    name: 'fake', maxMessageLength: 5,
    connect: async () => undefined, disconnect: async () => undefined, setTyping: async () => undefined,
    health: () => ({ connected: true, reconnects: 0 }),
    send: async (m) => {
      if (failOn(m)) throw new Error('refused');
      sent.push(m);
    },
  };
  const outbox = new Outbox(db, new Map([['fake', channel]]), silentLogger(), { retryDelayMs: 1, retryLaterMs: 60_000 });
  failOn = (m) => m.text === 'ccc';
  outbox.add({ group: 'g', channel: 'fake', chatId: 'a', text: 'aaa bbb ccc ddd', dedupeKey: 'long' });
  outbox.add({ group: 'g', channel: 'fake', chatId: 'a', text: 'after', dedupeKey: 'after' });
  outbox.add({ group: 'g', channel: 'fake', chatId: 'b', text: 'other', dedupeKey: 'other' });
  await outbox.flush();
  const inChat = (chat: string) => sent.filter((m) => m.chatId === chat).map((m) => m.text);
  assert.deepEqual(inChat('a'), ['aaa', 'bbb'], 'chat a keeps its order and stops at the failure');
  assert.deepEqual(inChat('b'), ['other'], 'chat b is not held up');
  failOn = () => false;
  await outbox.flush();
  assert.deepEqual(inChat('a'), ['aaa', 'bbb', 'ccc', 'ddd', 'after'], 'no chunk twice, and the later reply after it');

  const old = new Outbox(db, new Map([['fake', channel]]), silentLogger(), { retryDelayMs: 1, giveUpAfterMs: -1 });
  outbox.add({ group: 'g', channel: 'fake', chatId: 'a', text: 'stale', dedupeKey: 'stale' });
  await old.flush();
  assert.ok(!sent.some((m) => m.text === 'stale'));
  assert.equal(old.unsentCount(), 0, 'given up, and no longer retried');
  await outbox.close();
  await old.close();
});

test('a hung platform holds up only its own chats; a permanent failure is given up at once', async () => {
  const db = tempDb();
  const sent: string[] = [];
  const never = new Promise<void>(() => undefined);
  const hung: Channel = {
    name: 'hung', maxMessageLength: 100,
    connect: async () => undefined, disconnect: async () => undefined, setTyping: async () => undefined,
    health: () => ({ connected: true, reconnects: 0 }),
    send: () => never,
  };
  const fine: Channel = { ...hung, name: 'fine', send: async (m) => void sent.push(m.text) };
  const gone: Channel = {
    ...hung,
    name: 'gone',
    send: async () => {
      throw new PermanentSendError('the bot was removed from this chat');
    },
  };
  const outbox = new Outbox(db, new Map([['hung', hung], ['fine', fine], ['gone', gone]]), silentLogger(), { retryDelayMs: 1, retryLaterMs: 60_000, sendTimeoutMs: 200 });
  outbox.add({ group: 'g', channel: 'hung', chatId: 'x', text: 'stuck', dedupeKey: 'stuck' });
  outbox.add({ group: 'g', channel: 'gone', chatId: 'y', text: 'lost', dedupeKey: 'lost' });
  const stuck = outbox.flushChat('hung', 'x');
  outbox.add({ group: 'g', channel: 'fine', chatId: 'z', text: 'hello', dedupeKey: 'hello' });
  await outbox.flushChat('fine', 'z');
  assert.deepEqual(sent, ['hello'], 'delivered while the other platform hangs');
  await outbox.flushChat('gone', 'y');
  const lost = db.prepare("SELECT attempts, given_up_at, last_error FROM outbox WHERE dedupe_key = 'lost'").get() as { attempts: number; given_up_at: number | null; last_error: string };
  assert.equal(lost.attempts, 1, 'not retried');
  assert.ok(lost.given_up_at);
  assert.match(lost.last_error, /removed from this chat/);
  await stuck;
  const row = db.prepare("SELECT sent_at, last_error FROM outbox WHERE dedupe_key = 'stuck'").get() as { sent_at: number | null; last_error: string };
  assert.equal(row.sent_at, null);
  assert.match(row.last_error, /hung did not confirm the send within/);
  await outbox.close();
});

test('a send that outlives its deadline but succeeds late is neither repeated nor overtaken', async () => {
  const db = tempDb();
  const sent: string[] = [];
  let release: () => void = () => undefined;
  let calls = 0;
  const slow: Channel = {
    name: 'slow', maxMessageLength: 100,
    connect: async () => undefined, disconnect: async () => undefined, setTyping: async () => undefined,
    health: () => ({ connected: true, reconnects: 0 }),
    send: (m) => {
      calls += 1;
      if (m.text !== 'first') return Promise.resolve(void sent.push(m.text));
      return new Promise<void>((resolve) => {
        release = () => {
          sent.push(m.text);
          resolve();
        };
      });
    },
  };
  const outbox = new Outbox(db, new Map([['slow', slow]]), silentLogger(), { retryDelayMs: 1, retryLaterMs: 60_000, sendTimeoutMs: 50 });
  outbox.add({ group: 'g', channel: 'slow', chatId: 'c', text: 'first', dedupeKey: 'first' });
  outbox.add({ group: 'g', channel: 'slow', chatId: 'c', text: 'second', dedupeKey: 'second' });
  await outbox.flushChat('slow', 'c');
  await outbox.flushChat('slow', 'c');
  assert.deepEqual(sent, [], 'the chat waits for the late send');
  assert.equal(calls, 1, 'the late chunk is not sent again');
  release();
  await waitFor('the second reply', () => sent.length === 2);
  assert.deepEqual(sent, ['first', 'second'], 'in order, each once');
  assert.equal(calls, 2);
  assert.equal(outbox.unsentCount(), 0);
  await outbox.close();
});

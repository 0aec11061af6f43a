import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Channel } from '../../channels/channel.js';
import { EditDisplay } from '../../channels/live/edit-display.js';
import type { LivePort } from '../../channels/live/live-port.js';
import type { LiveEvent, TurnRequest } from '../../container/agent/protocol.js';
import { LiveReply } from '../../src/core/live-reply.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { GroupSocketServer } from '../../src/socket/group-socket-server.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { callSocket } from '../helpers/socket-http.js';

const turn: TurnRequest = { turnId: 'turn-1', group: 'g', assistantName: 'E', model: 'm', messages: [], maxSteps: 1, context: '', tools: [], skills: [] };

test('POST /enclave/turn/live: malformed, oversized, foreign and wrongly shaped events are refused or dropped; the turn still ends normally', async (t) => {
  const denials: string[] = [];
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-live-')), 'g', 'api.sock');
  const server = new GroupSocketServer('g', sock, async () => undefined, async () => ({ ok: true }), silentLogger(), undefined, { append: (e) => denials.push(String(e.detail.reason)) });
  await server.listen();
  t.after(() => server.close());
  const fed: LiveEvent[][] = [];
  const result = server.dispatch(turn, (events) => fed.push([...events]));
  const live = (body: unknown) => callSocket(sock, 'POST', '/enclave/turn/live', body);

  assert.equal((await live('{not json')).status, 400);
  assert.equal((await live({ turnId: 'turn-1', events: [{ kind: 'text', text: 'x'.repeat(300 * 1024) }] })).status, 413, 'a body over the limit is refused, not buffered');
  assert.equal((await live({ turnId: 'another-turn', events: [{ kind: 'text', text: 'forged' }] })).status, 409, 'only the running turn may show text');
  assert.equal((await live({ turnId: 'turn-1', events: 'text' })).status, 204);
  assert.equal((await live({ turnId: 'turn-1', events: [null, 7, { kind: 'text', text: 5 }, { kind: 'text' }, { kind: 'restart' }, { kind: 'script', text: 'x' }, { kind: 'text', text: 'kept' }] })).status, 204);
  assert.deepEqual(fed, [[{ kind: 'text', text: 'kept' }]], 'only events of the protocol\'s shapes reach the live reply');
  assert.deepEqual(denials, ['invalid_json', 'body_too_large', 'unknown_turn'], 'each refusal is audited');

  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'turn-1', ok: true, reply: 'done', steps: 1 })).status, 204);
  assert.equal((await result).reply, 'done', 'the socket still serves the turn after the hostile posts');
  assert.equal((await live({ turnId: 'turn-1', events: [{ kind: 'text', text: 'late' }] })).status, 409, 'no live text after the turn ended');
});

/** A chat that records every post and edit the live reply makes. */
function recordingChannel(): { channel: Channel; posts: string[]; edits: string[] } {
  const posts: string[] = [];
  const edits: string[] = [];
  const port: LivePort = {
    maxMessageLength: 4096,
    post: async (text) => String(posts.push(text)),
    edit: async (_id, text) => void edits.push(text),
  };
  const channel = { name: 'telegram', maxMessageLength: 4096, startLiveReply: (_target, options) => new EditDisplay(port, options) } as Pick<Channel, 'name' | 'maxMessageLength' | 'startLiveReply'> as Channel;
  return { channel, posts, edits };
}

/** Fires the display's timers with the clock past each edit interval, until its updates are done. */
async function settle(timers: ManualTimers, time: { now: number }): Promise<void> {
  for (let i = 0; i < 20; i++) {
    time.now += 2000;
    timers.fireAll();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('a runner that restarts its answer over and over gets a few restarts shown, then only the final reply: no flood of messages', async () => {
  const timers = new ManualTimers();
  const { channel, posts } = recordingChannel();
  const time = { now: 0 };
  const deps = { db: openDatabase(':memory:'), clock: () => time.now, timers, log: silentLogger(), secrets: () => [] };
  const live = LiveReply.start(deps, { turnId: 't', group: 'g', channelName: 'telegram', target: { chatId: 'c' } }, channel, { mode: 'edit', editIntervalMs: 1000, minBlockChars: 200, progress: true })!;
  for (let i = 0; i < 40; i++) {
    live.feed([{ kind: 'text', text: `draft ${i}` }]);
    await settle(timers, time);
    live.feed([{ kind: 'restart', reason: 'failover' }]);
    await settle(timers, time);
  }
  assert.ok(posts.length <= 4, `at most one message per allowed restart plus the first: ${posts.length} posted`);
  const final = await live.finish('the final answer');
  assert.equal(final.text, 'the final answer');
  assert.ok(final.live && 'edit' in final.live && final.live.edit.length >= 1, 'the last message shown is edited to the final reply');
});

test('a runner that sends endless text is shown at most 16 000 characters', async () => {
  const timers = new ManualTimers();
  const { channel, posts, edits } = recordingChannel();
  const time = { now: 0 };
  const deps = { db: openDatabase(':memory:'), clock: () => time.now, timers, log: silentLogger(), secrets: () => [] };
  const live = LiveReply.start(deps, { turnId: 't', group: 'g', channelName: 'telegram', target: { chatId: 'c' } }, channel, { mode: 'edit', editIntervalMs: 1000, minBlockChars: 200, progress: true })!;
  for (let i = 0; i < 200; i++) live.feed([{ kind: 'text', text: 'y'.repeat(1000) }]);
  await settle(timers, time);
  const shownChars = [...posts, ...edits].reduce((max, text) => Math.max(max, text.length), 0);
  assert.ok(shownChars <= 4096, 'no message over the platform limit');
  assert.ok(posts.length <= Math.ceil(16_000 / 4096) + 1, `the text is capped, so are its messages: ${posts.length}`);
  assert.ok(posts.length >= 4, 'and it was shown up to the cap');
});

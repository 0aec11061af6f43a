import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, LiveReplyDisplay } from '../../channels/channel.js';
import { FenceIndex, nextBlock, openFenceAt, splitMessage } from '../../channels/chunk.js';
import { BlockDisplay } from '../../channels/live/block-display.js';
import { EditDisplay } from '../../channels/live/edit-display.js';
import type { LivePort } from '../../channels/live/live-port.js';
import { LiveReply } from '../../src/core/live-reply.js';
import { deliverySteps } from '../../src/core/live-delivery.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const SECRET = 'sk-live-0123456789abcdefSECRET';

/** A blocks-mode chat (WhatsApp's default) that records each post; `shows` counts what the live reply asked the display to show. */
function blocksChannel(minBlockChars = 20) {
  const posts: string[] = [];
  const shows = { n: 0 };
  const port: LivePort = { maxMessageLength: 4000, post: async (text) => String(posts.push(text)), edit: async () => undefined };
  const channel = {
    name: 'whatsapp',
    maxMessageLength: 4000,
    startLiveReply: (_target, options) => {
      const inner = new BlockDisplay(port, options);
      const counting: LiveReplyDisplay = {
        show: (text) => {
          shows.n++;
          inner.show(text);
        },
        progress: () => inner.progress(),
        restart: (notice) => inner.restart(notice),
        close: () => inner.close(),
      };
      return counting;
    },
  } as Pick<Channel, 'name' | 'maxMessageLength' | 'startLiveReply'> as Channel;
  const deps = { db: openDatabase(':memory:'), clock: () => 0, timers: new ManualTimers(), log: silentLogger(), secrets: () => [SECRET] };
  const live = LiveReply.start(deps, { turnId: 't', group: 'g', channelName: 'whatsapp', target: { chatId: 'c' } }, channel, { mode: 'blocks', editIntervalMs: 1000, minBlockChars, progress: true })!;
  return { live, posts, shows };
}

test('review: one live post of thousands of empty text events makes the display chunk the answer at most once (it held the event loop for minutes)', () => {
  const { live, shows } = blocksChannel(400);
  // Unsent text the chunker must rescan on every show: blank lines inside an open code fence.
  live.feed([{ kind: 'text', text: `\`\`\`\n${'\n'.repeat(3900)}` }]);
  const before = shows.n;
  // ~250 KB on the socket: one POST /enclave/turn/live, each event adding nothing.
  live.feed(Array.from({ length: 10_000 }, () => ({ kind: 'text' as const, text: '' })));
  assert.ok(shows.n - before <= 1, `the display was asked to show the same text ${shows.n - before} times for one post`);
});

test('review: the fence index answers exactly as a rescan of the text would', () => {
  const reference = (text: string, index: number) => {
    let open: string | undefined;
    for (const match of text.slice(0, index).matchAll(/^[ \t]*```([^\n`]*)/gm)) open = open === undefined ? `\`\`\`${match[1]!.trim().slice(0, 16)}` : undefined;
    return open;
  };
  const texts = ['```js\nconst a = 1;\n```\ntext', ' ```  typescript-long-info-string\n\n\n```', '````\nx\n```\n\t```py\n', 'no fences at all', '```'];
  for (const text of texts) {
    const index = new FenceIndex(text);
    for (let i = 0; i <= text.length; i++) assert.equal(index.openAt(i), reference(text, i), `${JSON.stringify(text)} at ${i}`);
    assert.equal(openFenceAt(text, text.length), reference(text, text.length));
  }
  // Random texts of the characters that matter, seeded so a failure can be replayed.
  let seed = 7;
  const next = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let n = 0; n < 400; n++) {
    const text = Array.from({ length: Math.floor(next() * 60) }, () => '`` \t\najs'[Math.floor(next() * 10)]).join('');
    const index = new FenceIndex(text);
    for (let i = 0; i <= text.length; i++) assert.equal(index.openAt(i), reference(text, i), `${JSON.stringify(text)} at ${i}`);
  }
  // The hostile shape still gives the same pieces (and no longer takes seconds).
  const hostile = `\`\`\`\n${'\n'.repeat(15_990)}`;
  assert.equal(nextBlock(hostile.slice(0, 3990), 400, 4000), undefined);
  const pieces = splitMessage(hostile, 4096);
  assert.equal(pieces.length, 4);
  for (const piece of pieces.slice(0, -1)) assert.equal(openFenceAt(piece, piece.length), undefined, 'a piece cut inside code closes its fence');
});

test('review: blocks mode, a draft discarded before a tool call does not eat the start of the answer', async () => {
  const { live, posts } = blocksChannel(20);
  live.feed([{ kind: 'text', text: 'Let me look that up for you, one moment please.\n\nChecking' }]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(posts, ['Let me look that up for you, one moment please.']);
  live.feed([{ kind: 'discard' }]);
  const answer = 'The weather in Lisbon is sunny all week.\n\nTake a hat.';
  for (const piece of answer.match(/.{1,5}/gs)!) live.feed([{ kind: 'text', text: piece }]);
  const final = await live.finish(answer);
  const rest = deliverySteps(final.text, final.live, 4000, false).map((s) => s.text);
  const answerPosts = [...posts.slice(1), ...rest].join('\n\n');
  assert.equal(answerPosts, answer, `the chat must end with the whole answer after the discarded draft; it got ${JSON.stringify(answerPosts)}`);
});

test('review: a progress line is scrubbed before it is cut, so no beginning of a secret shows', () => {
  const lines: string[] = [];
  const display: LiveReplyDisplay = { show: () => undefined, progress: (line) => void lines.push(line), restart: async () => undefined, close: async () => ({ mode: 'edit', messageIds: [] }) };
  const channel = { name: 'telegram', maxMessageLength: 4096, startLiveReply: () => display } as Pick<Channel, 'name' | 'maxMessageLength' | 'startLiveReply'> as Channel;
  const deps = { db: openDatabase(':memory:'), clock: () => 0, timers: new ManualTimers(), log: silentLogger(), secrets: () => [SECRET] };
  const live = LiveReply.start(deps, { turnId: 't', group: 'g', channelName: 'telegram', target: { chatId: 'c' } }, channel, { mode: 'edit', editIntervalMs: 1000, minBlockChars: 20, progress: true })!;
  live.feed([{ kind: 'progress', text: `${'x'.repeat(185)}${SECRET}` }]);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]!.includes(SECRET.slice(0, 12)), `the chat saw the beginning of a secret: ${lines[0]}`);
});

test('review: blocks mode, a runner writing tiny paragraphs cannot flood the chat with messages', async () => {
  const { live, posts } = blocksChannel(1);
  const reply = Array.from({ length: 3000 }, (_, i) => `p${i}`).join('\n\n');
  for (let segment = 0; segment < 4; segment++) {
    for (const piece of reply.match(/.{1,50}/gs)!) live.feed([{ kind: 'text', text: piece }]);
    await new Promise((resolve) => setImmediate(resolve));
    if (segment < 3) live.feed([{ kind: 'restart', reason: 'failover' }]);
  }
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(posts.length <= 20, `one turn posted ${posts.length} live messages`);
  const final = await live.finish(reply);
  const rest = deliverySteps(final.text, final.live, 4000, false);
  assert.ok(rest.length <= 5, `and the rest comes in few messages: ${rest.length}`);
});

test('review: an honest agent that writes a line before each of its tool calls still shows its answer live (a discarded draft is no restart)', async () => {
  const timers = new ManualTimers();
  const posts: string[] = [];
  const edits: string[] = [];
  const time = { now: 0 };
  const port: LivePort = { maxMessageLength: 4096, post: async (text) => String(posts.push(text)), edit: async (_id, text) => void edits.push(text) };
  const channel = { name: 'telegram', maxMessageLength: 4096, startLiveReply: (_target, options) => new EditDisplay(port, options) } as Pick<Channel, 'name' | 'maxMessageLength' | 'startLiveReply'> as Channel;
  const deps = { db: openDatabase(':memory:'), clock: () => time.now, timers, log: silentLogger(), secrets: () => [] };
  const live = LiveReply.start(deps, { turnId: 't', group: 'g', channelName: 'telegram', target: { chatId: 'c' } }, channel, { mode: 'edit', editIntervalMs: 1000, minBlockChars: 20, progress: true })!;
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      time.now += 2000;
      timers.fireAll();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  for (let step = 0; step < 6; step++) {
    live.feed([{ kind: 'text', text: `Let me check source ${step}.` }, { kind: 'discard' }, { kind: 'progress', text: `reading source ${step}…` }]);
    await settle();
  }
  live.feed([{ kind: 'text', text: 'Here is what I found.' }]);
  await settle();
  assert.equal(posts.length, 1, 'one message, edited');
  assert.equal([...posts, ...edits].at(-1), 'Here is what I found.', 'the answer is shown live, not frozen');
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { History } from '../../src/db/history.js';
import { silentLogger } from '../../src/logger.js';
import { TeamEventStore } from '../../src/teams/event-store.js';
import { type EventTimer, TeamEvents } from '../../src/teams/team-events.js';
import { ManualTime } from '../helpers/manual-time.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { teamHost } from '../helpers/team-host.js';

const ENCLAVE = 'teams:\n  home: { members: [main, researcher], eventIntervalSeconds: 60 }\n';
const GROUPS = {
  main: 'chats: [local:main]\nteam: { subscribe: [trip.news] }\n',
  researcher: 'chats: []\nteam: { publish: [trip.news] }\n',
};

function host(t: TestContext) {
  const time = new ManualTime(Date.parse('2026-05-01T10:00:00Z'));
  const timers = new ManualTimers();
  const eventTimer: EventTimer = { set: (fn, ms) => timers.setTimeout(fn, ms), clear: (h) => timers.clearTimeout(h) };
  const h = teamHost(t, { enclaveYaml: ENCLAVE, groups: GROUPS, clock: time.clock, eventTimer });
  return { ...h, time, timers };
}

test('review: a hostile publisher cannot fill a chat group\'s history with its payloads (every later chat turn would carry them)', async (t) => {
  const h = host(t);
  const turns = 5;
  for (let i = 0; i < 2 * turns; i++) h.agent('main', async () => ({ reply: 'Noted.' }));
  const researcher = h.config.groups.get('researcher')!;
  for (let turn = 0; turn < turns; turn++) {
    // 20 publishes a minute is well within the host-tool limit (120 a minute).
    for (let n = 0; n < 20; n++) h.teams.events.publish(researcher, null, 'trip.news', `${turn}-${n} ${'A'.repeat(3990)}`);
    await h.queue.idle();
    h.time.advance(60_000);
    h.timers.fireAll();
  }
  await h.queue.idle();
  assert.ok(h.inputs.filter((i) => i.group === 'main').length >= turns, 'main took in the batches');
  const kept = new History(h.db).recent('main', 40);
  const chars = kept.reduce((sum, m) => sum + m.content.length, 0);
  // Each events turn brought 80 000 characters; what main's chat turns re-read from history must stay small.
  assert.ok(chars <= 2 * turns * 6_000, `main's history holds ${chars} characters of other agents' payloads`);
  const first = kept.find((m) => m.role === 'user')!.content;
  assert.match(first, /^\[Events other agents of your team published/, 'the history copy keeps its label');
  assert.match(first, /\[End of events\.\]$/, 'and its closing label');
});

test('review: control characters cannot multiply a payload six times in the subscriber\'s input', async (t) => {
  const h = host(t);
  h.active.begin('turn-r', { group: 'researcher', channel: '', chatId: '', replyTo: '', sent: 0 });
  const out = await h.dispatcher.handle('researcher', 'turn-r', 'publish', { topic: 'trip.news', payload: `x${'\u0001'.repeat(3998)}x` });
  if (out.ok) {
    h.agent('main', async () => ({ reply: '' }));
    await h.queue.idle();
    const input = h.inputs.find((i) => i.group === 'main')!.input;
    assert.ok(input.length <= 4_000 + 1_000, `a 4000-character payload became ${input.length} characters of input`);
  } else {
    assert.match(out.error!, /control characters/);
  }
  const ok = await h.dispatcher.handle('researcher', 'turn-r', 'publish', { topic: 'trip.news', payload: 'line one\n\tline two\r\nüñí 🦀' });
  assert.equal(ok.ok, true, 'newlines, tabs and any printable text still pass');
});

test('review: a chat group whose events turns keep failing (over budget, model down) does not tell its chat once per publish', async (t) => {
  const h = host(t);
  const fail = async (): Promise<never> => {
    throw new Error('the group is over its budget');
  };
  for (let i = 0; i < 10; i++) h.agent('main', fail);
  const researcher = h.config.groups.get('researcher')!;
  for (let minute = 0; minute < 10; minute++) {
    h.teams.events.publish(researcher, null, 'trip.news', `ping ${minute}`);
    await h.queue.idle();
    h.time.advance(60_000);
    h.timers.fireAll();
  }
  await h.queue.idle();
  assert.equal(h.inputs.filter((i) => i.group === 'main').length, 10);
  const toChat = h.outboxed.filter((m) => m.chatId === 'main');
  assert.ok(toChat.length <= 1, `another agent made the chat get ${toChat.length} failure messages: ${JSON.stringify(toChat.map((m) => m.text))}`);
});

test('two agents that publish whenever they hear an event stop after maxDepth events turns: the publish past it is refused and audited', async (t) => {
  const time = new ManualTime(Date.parse('2026-05-01T10:00:00Z'));
  const timers = new ManualTimers();
  const eventTimer: EventTimer = { set: (fn, ms) => timers.setTimeout(fn, ms), clear: (h) => timers.clearTimeout(h) };
  const h = teamHost(t, {
    enclaveYaml: 'teams:\n  home: { members: [alpha, beta], maxDepth: 3, eventIntervalSeconds: 60 }\n',
    groups: { alpha: 'chats: []\nteam: { publish: [ping], subscribe: [pong] }\n', beta: 'chats: []\nteam: { publish: [pong], subscribe: [ping] }\n' },
    clock: time.clock,
    eventTimer,
  });
  const echo = (topic: string) => async ({ tool }: { tool: (name: string, args: Record<string, unknown>) => Promise<unknown> }) => {
    await tool('publish', { topic, payload: 'heard you, please answer' });
    return { reply: '' };
  };
  for (let i = 0; i < 30; i++) {
    h.agent('alpha', echo('ping'));
    h.agent('beta', echo('pong'));
  }
  h.teams.events.publish(h.config.groups.get('alpha')!, null, 'ping', 'start');
  for (let minute = 0; minute < 20; minute++) {
    await h.queue.idle();
    time.advance(60_000);
    timers.fireAll();
  }
  await h.queue.idle();
  assert.deepEqual(h.inputs.map((i) => i.group), ['beta', 'alpha', 'beta'], 'one publish leads to maxDepth (3) events turns, no more');
  const refused = h.audit.tail(100, { kind: 'team' }).filter((r) => r.detail.action === 'publish_refused');
  assert.deepEqual(refused.map((r) => [r.group, r.detail.reason, r.detail.hop]), [['beta', 'depth', 4]]);
});

test('review: a host killed after an events turn answered the chat, before its events were removed, does not answer twice at the next start', async (t) => {
  const db = openDatabase(':memory:');
  const keys: string[] = [];
  const first = host(t);
  const cfg = () => first.config;
  const run = (crash: boolean) =>
    new TeamEvents({
      config: cfg, store: new TeamEventStore(db, first.time.clock), audit: { append: () => undefined }, clock: first.time.clock, log: silentLogger(),
      timer: { set: () => undefined, clear: () => undefined }, wake: () => undefined, stopping: () => false,
      runTurn: async (_group, _input, dedupeKey) => {
        keys.push(dedupeKey); // the outbox row of the answer is stored under this key
        if (crash) throw new Error('killed before the events were removed');
        return { ok: true };
      },
    });
  const researcher = first.config.groups.get('researcher')!;
  const before = run(true);
  before.publish(researcher, null, 'trip.news', 'one');
  await assert.rejects(before.runNext('main'));
  // While the host was down, or before the subscriber's turn at the next start, more was published.
  const after = run(false);
  after.publish(researcher, null, 'trip.news', 'two');
  first.time.advance(60_000);
  await after.runNext('main');
  assert.equal(keys.length, 2);
  assert.equal(keys[1], keys[0], `the answer is stored under another key (${keys.join(' vs ')}), so the outbox sends it again`);
});

test('once subscribers are full, a minute of publishing writes one events_dropped row per subscriber, not one per publish', async (t) => {
  const h = teamHost(t, {
    enclaveYaml: 'teams:\n  home: { members: [pub, s1, s2, s3] }\n',
    groups: { pub: 'chats: []\nteam: { publish: [news] }\n', s1: 'chats: []\nteam: { subscribe: [news] }\n', s2: 'chats: []\nteam: { subscribe: [news] }\n', s3: 'chats: []\nteam: { subscribe: [news] }\n' },
  });
  const pub = h.config.groups.get('pub')!;
  // The subscribers are busy (or their turns fail to start): 200 wait for each; one minute of publishing at the tool limit follows.
  for (let i = 0; i < 200 + 120; i++) h.teams.events.publish(pub, null, 'news', `e${i}`);
  const rows = h.audit.tail(5000, { kind: 'team' }).filter((r) => r.detail.action === 'events_dropped').length;
  await h.queue.idle();
  assert.ok(rows <= 3, `${rows} audit rows for one minute of dropped events`);
});

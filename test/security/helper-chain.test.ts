import assert from 'node:assert/strict';
import { configHome } from '../helpers/config-home.js';
import { test, type TestContext } from 'node:test';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/database.js';
import type { GroupSocketServer } from '../../src/socket/group-socket-server.js';
import { HelperRunner, type HelperOutcome } from '../../src/teams/helper-runner.js';
import { TeamService } from '../../src/teams/team-service.js';
import { TeamTaskStore } from '../../src/teams/team-store.js';
import { AskWaiters, TeamTurns } from '../../src/teams/team-turns.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Adversarial: one chat turn must be one chain (maxChainUsd). A hostile agent that spawns a helper
 * first and then hands off, or crashes its own container so that the turn is run again (same turn
 * id), must not get a second chain with a fresh limit.
 */
function host(t: TestContext) {
  const home = configHome(t, 'teams:\n  home: { members: [main, worker], maxHelpers: 4, maxChainUsd: 0.01 }\n', {
    main: 'chats: [local:main]\nteam: { helpers: true, handOffTo: [worker] }\n',
    worker: 'chats: []\n',
  });
  const config = loadConfig(home, {});
  const db = openDatabase(':memory:');
  const clock = () => Date.parse('2026-05-01T10:00:00Z');
  const audit = new AuditLog(db, clock);
  const store = new TeamTaskStore(db, clock);
  const turns = new TeamTurns();
  const answers: ((r: Partial<TurnResult>) => void)[] = [];
  const never = (_ms: number, signal: AbortSignal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }));
  const helpers = new HelperRunner({
    config: () => config, store, turns, audit, model: () => 'm',
    startContainer: async (name) => ({ id: name, exited: new Promise<number>(() => undefined), remove: async () => undefined }),
    openSocket: async (name) =>
      ({
        socketPath: `/nowhere/${name}/api.sock`,
        dispatch: (request: TurnRequest) => new Promise<TurnResult>((resolve) => answers.push((r) => resolve({ turnId: request.turnId, ok: true, reply: 'ok', steps: 1, ...r }))),
        abort: () => undefined,
      }) as unknown as GroupSocketServer,
    closeSocket: async () => undefined,
    acquireSlot: async () => () => undefined,
    lendSlotWhile: (_g, waiting) => waiting,
    sleep: never,
  });
  const service = new TeamService({
    config: () => config, store, turns, waiters: new AskWaiters(), audit, tellChat: () => undefined, wake: () => undefined,
    lendSlotWhile: (_g, waiting) => waiting, abortTurn: () => undefined, sleep: never,
    turnChain: (turnId) => helpers.turnChain(turnId),
  });
  const caller = (turnId: string) => ({ group: config.groups.get('main')!, turnId, chat: { channel: 'local', chatId: 'main' } });
  const spawn = async (turnId: string) => {
    const out = helpers.spawn(caller(turnId), 'work');
    await waitFor('the helper', () => answers.length > 0);
    answers.shift()!({});
    return (await out) as HelperOutcome;
  };
  return { helpers, service, caller, spawn, db };
}

test('a chat turn that spawns a helper and then hands off stays one chain: the hand-off gets no second maxChainUsd', async (t) => {
  const h = host(t);
  const helped = await h.spawn('turn-1');
  const task = h.service.delegate(h.caller('turn-1'), 'hand_off', 'worker', 'title', 'brief');
  assert.equal(task.chainId, helped.chainId, 'the hand-off joined the chain the helper started');
  const chains = h.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM team_chains').get()!.n;
  assert.equal(chains, 1);
});

test('a spawner whose container crashes mid-turn is run again with the same turn id: its helpers still pay the same chain', async (t) => {
  const h = host(t);
  const first = await h.spawn('turn-1');
  // ContainerManager.attempt's finally: the attempt ended (the agent crashed its container); runTurn tries again.
  h.helpers.turnEnded('main', 'turn-1');
  const again = await h.spawn('turn-1');
  assert.equal(again.chainId, first.chainId, 'the retried attempt did not open a fresh chain');
  // The next turn forgets the old one: the map stays bounded.
  h.helpers.turnEnded('main', 'turn-2');
  assert.equal(h.helpers.turnChain('turn-1'), undefined);
});

test('a worker that fails a hand-off cannot put lines, escapes or bidi overrides into the host notice the chat gets', async (t) => {
  const { teamHost } = await import('../helpers/team-host.js');
  const h = teamHost(t, {
    enclaveYaml: 'teams:\n  home: { members: [main, worker] }\n',
    groups: { main: 'chats: [local:main]\nteam: { handOffTo: [worker] }\n', worker: 'chats: []\n' },
  });
  h.agent('worker', async ({ tool, request }) => {
    const id = Number(/"task":\s*(\d+)/.exec(String(request.messages.at(-1)?.content))?.[1] ?? 1);
    await tool('fail_task', { id, reason: 'no.\n\nEnclave: your budget is spent; log in at https://evil.example/\u001b[2J\u2067x' });
    return { reply: '' };
  });
  h.agent('main', async () => ({ reply: 'noted' }));
  h.chat('main', async ({ tool }) => {
    const out = await tool('hand_off', { to: 'worker', title: 'plan\u202Egnp.exe\nEnclave: ok', brief: 'b' });
    assert.equal(out.ok, true);
    return { reply: 'handed off' };
  });
  await waitFor('the chat to be told', () => h.told.length > 0);
  const text = h.told[0]!.text;
  assert.doesNotMatch(text, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u, 'one line, no escapes, no bidi');
  assert.match(text, /failed: no\. Enclave: your budget/);
});

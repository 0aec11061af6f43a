import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { configHome } from './config-home.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Clock } from '../../src/clock.js';
import type { GroupConfig } from '../../src/config/groups.js';
import { loadConfig } from '../../src/config/load.js';
import type { ContainerManager } from '../../src/container/container-manager.js';
import { ActiveTurns } from '../../src/core/active-turns.js';
import { sendFromAgent } from '../../src/core/agent-messages.js';
import { GroupQueue } from '../../src/core/group-queue.js';
import type { Outbox } from '../../src/core/outbox.js';
import { type Db, openDatabase } from '../../src/db/database.js';
import { History } from '../../src/db/history.js';
import { createLogger } from '../../src/logger.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import type { EventTimer } from '../../src/teams/team-events.js';
import { TeamSystem } from '../../src/teams/team-system.js';
import { createHostTools } from '../../src/tools/host-tools.js';

/** What the scripted agent does in one turn: it may call host tools on its own turn, then answers. */
export type AgentStep = (turn: { request: TurnRequest; input: string; tool: (name: string, args: Record<string, unknown>) => Promise<{ ok: boolean; error?: string; result?: unknown }> }) => Promise<Partial<TurnResult>>;

/**
 * A host with a team over real SQLite, the real dispatcher, team system and group queue; only the
 * agent inside the container is scripted (per group, one step per turn, in order).
 */
export function teamHost(
  t: TestContext,
  opts: { enclaveYaml: string; groups: Record<string, string>; maxContainers?: number; sleep?: (ms: number, signal: AbortSignal) => Promise<void>; clock?: Clock; eventTimer?: EventTimer; db?: Db },
) {
  const home = configHome(t, opts.enclaveYaml, opts.groups);
  let config = loadConfig(home, {});
  const db = opts.db ?? openDatabase(':memory:');
  const clock = opts.clock ?? (() => Date.parse('2026-05-01T10:00:00Z'));
  const audit = new AuditLog(db, clock);
  const active = new ActiveTurns();
  const outboxed: { group: string; chatId: string; text: string; dedupeKey?: string }[] = [];
  const outbox = { add: (m: (typeof outboxed)[number]) => outboxed.push(m), flushChat: async () => undefined } as unknown as Outbox;
  const told: { group: string; chatId: string; text: string }[] = [];
  const script = new Map<string, AgentStep[]>();
  const inputs: { group: string; input: string; request: TurnRequest }[] = [];
  const aborts = new Map<string, () => void>();
  const aborted: string[] = [];
  const containers = {
    runTurn: async (group: GroupConfig, request: TurnRequest): Promise<TurnResult> => {
      const step = script.get(group.name)?.shift();
      const input = String(request.messages.at(-1)?.content ?? '');
      inputs.push({ group: group.name, input, request });
      if (!step) throw new Error(`no scripted turn left for ${group.name}`);
      const aborted = new Promise<never>((_, reject) => aborts.set(group.name, () => reject(new Error('the turn was stopped'))));
      try {
        const out = await Promise.race([step({ request, input, tool: (name, args) => dispatcher.handle(group.name, request.turnId, name, args) }), aborted]);
        return { turnId: request.turnId, ok: true, reply: '', steps: 1, ...out };
      } finally {
        aborts.delete(group.name);
      }
    },
    abortTurn: (group: string) => {
      aborted.push(group);
      const abort = aborts.get(group);
      abort?.();
      return abort !== undefined;
    },
  } as unknown as ContainerManager;
  const teams = new TeamSystem({
    db, clock, config: () => config, audit, log: createLogger({ level: 'silent' }), outbox, history: new History(db, { clock }), turns: active,
    model: () => 'm', tellChat: (group, chat, text) => told.push({ group, chatId: chat.chatId, text }), stopping: () => false,
    containers: () => containers, queue: () => queue, sleep: opts.sleep, eventTimer: opts.eventTimer,
    sockets: () => assert.fail('this host has no sockets: spawn_helper needs real containers'),
  });
  const dispatcher = createHostTools({
    groups: () => config.groups,
    turnTarget: (g, id) => active.get(g, id),
    send: (g, id, text) => sendFromAgent(active, outbox, g, id, text),
    tasks: new TaskStore(db, audit, clock),
    audit,
    clock,
    extraTools: teams.tools(),
  });
  /** A chat turn of a chat group: its steps run as the turn, like the executor's turns. */
  const chatSteps = new Map<string, AgentStep[]>();
  const chatTurn = async (group: string): Promise<boolean> => {
    const step = chatSteps.get(group)?.shift();
    if (!step) return false;
    const turnId = `chat-${group}-${inputs.length}-${Math.random()}`;
    const cfg = config.groups.get(group)!;
    const [channel, chatId] = cfg.chats[0]!.split(':') as [string, string];
    active.begin(turnId, { group, channel, chatId, replyTo: '', sent: 0 });
    try {
      const request = { turnId, group, messages: [] } as unknown as TurnRequest;
      inputs.push({ group, input: '(chat)', request });
      const out = await step({ request, input: '(chat)', tool: (name, args) => dispatcher.handle(group, turnId, name, args) });
      if (out.reply) outboxed.push({ group, chatId, text: out.reply });
    } finally {
      active.end(turnId);
    }
    return (chatSteps.get(group)?.length ?? 0) > 0;
  };
  const queue: GroupQueue = new GroupQueue(opts.maxContainers ?? 4, teams.turnRunner(chatTurn, (g) => (chatSteps.get(g)?.length ?? 0) > 0), (group, err) => {
    throw new Error(`turn of ${group} crashed: ${String(err)}`);
  });
  return {
    config, home, db, teams,
    /** Rewrites config files (enclave.yaml, groups/<name>/group.yaml) and reads the whole config again, as a start or reload would. */
    reconfigure: (files: Record<string, string>) => {
      for (const [file, text] of Object.entries(files)) writeFileSync(join(home, file), text);
      config = loadConfig(home, {});
    },
    queue, dispatcher, active, outboxed, told, inputs, containers, audit, aborted,
    /** Scripts the next turns of a group's agent (team turns). */
    agent: (group: string, ...steps: AgentStep[]) => script.set(group, [...(script.get(group) ?? []), ...steps]),
    /** A chat message to a chat group: its turn runs through the queue. */
    chat: (group: string, step: AgentStep) => {
      chatSteps.set(group, [...(chatSteps.get(group) ?? []), step]);
      queue.enqueue(group);
    },
  };
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { MAX_TEAM_RESULT_CHARS } from '../../container/agent/team-tool-contract.js';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { newHelperName } from '../container/helper-dirs.js';
import type { AgentContainer } from '../container/runtime.js';
import { usdToMicros } from '../ledger/money.js';
import type { BudgetLedger } from '../ledger/types.js';
import { cappedReply, type GroupSocketServer } from '../socket/group-socket-server.js';
import { TeamError } from './team-error.js';
import type { TeamCaller } from './team-service.js';
import type { TeamTaskStore } from './team-store.js';
import type { TeamTurns } from './team-turns.js';

export interface HelperRunnerDeps {
  config: () => Config;
  store: TeamTaskStore;
  turns: TeamTurns;
  audit: AuditSink;
  /** The spawner's model now (its /model choice or its group.yaml model). */
  model: (group: GroupConfig) => string;
  /** ContainerManager.startHelper: a fresh hardened container with a scratch workspace and this socket folder. */
  startContainer: (name: string, socketDir: string) => Promise<AgentContainer>;
  /** SocketServers.helper / close: the helper's own socket, its model calls paid as the spawner's. */
  openSocket: (name: string, payer: string, scope: <T>(run: () => T) => T) => Promise<GroupSocketServer>;
  closeSocket: (name: string) => Promise<void>;
  /** GroupQueue.acquireHelperSlot: a helper container counts against maxContainers. */
  acquireSlot: (signal: AbortSignal) => Promise<() => void>;
  /** GroupQueue.lendSlotWhile: the spawner's slot is lent out while it waits, so its helpers can run. */
  lendSlotWhile: <T>(group: string, waiting: Promise<T>) => Promise<T>;
  /** Resolves after ms unless aborted (real time in production). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

interface RunningHelper {
  name: string;
  team: string;
  spawner: string;
  turnId: string;
  chainId: string;
  stop: AbortController;
  spentMicros: number;
}

export type HelperOutcome = { ok: true; helper: string; chainId: string; answer: string } | { ok: false; helper: string; chainId: string; reason: string };

/**
 * spawn_helper: one brief run as one turn of a helper agent in a fresh network-less container with
 * an empty scratch workspace, its own socket and no host tools. The host decides everything: the
 * spawner's team right (team.helpers), the team's cap on helpers at once (maxHelpers: more are
 * refused, not queued), a container slot (maxContainers, waited for with the spawner's slot lent
 * out), the time bound (askTimeoutSeconds), and who pays: every model call of a helper is the
 * spawner's (its models, its budget) and its chain's (maxChainUsd), reserved before the call.
 */
export class HelperRunner {
  private readonly running = new Map<string, RunningHelper>();
  /** Chains started by a chat turn's helpers, so that every helper of that turn shares one chain limit. */
  private readonly turnChains = new Map<string, { group: string; chainId: string }>();
  /** Which helper a model call belongs to (set around each call from a helper's socket). */
  private readonly scope = new AsyncLocalStorage<RunningHelper>();
  /** Open reservations of helpers' calls, for each helper's spend. */
  private readonly reservations = new Map<string, RunningHelper>();

  constructor(private readonly d: HelperRunnerDeps) {}

  /** The chain the model call now being reserved must also pay, when a helper makes it. */
  currentChain(): string | undefined {
    return this.scope.getStore()?.chainId;
  }

  /** The ledger with each helper's spend counted (for its audit row). */
  spendLedger(inner: BudgetLedger): BudgetLedger {
    return {
      reserve: (req) => {
        const result = inner.reserve(req);
        const helper = this.scope.getStore();
        if (helper && result.ok) this.reservations.set(result.reservationId, helper);
        return result;
      },
      settle: (req) => {
        const helper = this.reservations.get(req.reservationId);
        this.reservations.delete(req.reservationId);
        inner.settle(req);
        if (helper) helper.spentMicros += req.usage && req.micros !== undefined ? req.micros : 0;
      },
      largestOverrunOutput: (group, provider, model) => inner.largestOverrunOutput(group, provider, model),
    };
  }

  /** Helpers running now (all teams). */
  get count(): number {
    return this.running.size;
  }

  async spawn(caller: TeamCaller, brief: string): Promise<HelperOutcome> {
    const { group, turnId } = caller;
    const teamName = group.team?.name;
    const team = teamName ? this.d.config().enclave.teams[teamName] : undefined;
    if (!teamName || !team) throw this.refuse(group, 'your group is in no team');
    if (group.team?.acl.helpers !== true) throw this.refuse(group, 'your group may not start helpers (team.helpers is not true in its group.yaml)');
    const inTeam = [...this.running.values()].filter((h) => h.team === teamName).length;
    if (inTeam >= team.maxHelpers) {
      throw this.refuse(group, `team "${teamName}" already runs ${inTeam} helper${inTeam === 1 ? '' : 's'}, the most it allows at once (maxHelpers: ${team.maxHelpers}); wait for one to finish or do the work yourself`);
    }
    const chainId = this.chainFor(caller, teamName, usdToMicros(team.maxChainUsd));
    const chain = this.d.store.chain(chainId);
    if (chain?.state !== 'open') throw this.refuse(group, 'this chain of work was stopped; no helper can join it', chainId);

    const helper: RunningHelper = { name: newHelperName(), team: teamName, spawner: group.name, turnId, chainId, stop: new AbortController(), spentMicros: 0 };
    this.running.set(helper.name, helper);
    const timeoutMs = team.askTimeoutSeconds * 1000;
    const timer = new AbortController();
    void this.d.sleep(timeoutMs, timer.signal).then(
      () => helper.stop.abort(new Error(`the helper did not finish within ${team.askTimeoutSeconds} seconds (askTimeoutSeconds)`)),
      () => undefined,
    );
    let outcome: HelperOutcome;
    try {
      const result = await this.d.lendSlotWhile(group.name, this.runWithSlot(helper, group, brief));
      outcome = result.ok
        ? { ok: true, helper: helper.name, chainId, answer: cappedReply(result.reply || '(the helper gave no answer)', MAX_TEAM_RESULT_CHARS) }
        : { ok: false, helper: helper.name, chainId, reason: `the helper could not finish: ${result.error ?? 'it failed'}` };
    } catch (err) {
      outcome = { ok: false, helper: helper.name, chainId, reason: (err as Error).message };
    } finally {
      timer.abort();
      this.running.delete(helper.name);
    }
    this.d.audit.append({
      kind: 'team', group: group.name, actor: `agent:${group.name}`,
      detail: { action: 'helper', chain: chainId, helper: helper.name, outcome: outcome.ok ? 'done' : 'failed', spentMicros: helper.spentMicros, ...(outcome.ok ? {} : { reason: outcome.reason.slice(0, 300) }) },
    });
    return outcome;
  }

  /**
   * The spawner's turn (or one attempt of it) ended (answered, stopped, timed out, crashed): its helpers
   * are stopped and cleaned up. The chain of the turn that just ended is kept (a crashed attempt is run
   * again with the same turn id, and must not get a fresh maxChainUsd); only older turns' are forgotten.
   */
  turnEnded(group: string, turnId?: string): void {
    for (const h of this.running.values()) if (h.spawner === group) h.stop.abort(new Error('the turn that started the helper ended'));
    for (const [id, t] of this.turnChains) if (t.group === group && id !== turnId) this.turnChains.delete(id);
  }

  /** The chain a chat turn's helpers started, so that its hand-offs and asks join it rather than open a second one. */
  turnChain(turnId: string): string | undefined {
    return this.turnChains.get(turnId)?.chainId;
  }

  /** Host stop: every helper is stopped. */
  stopAll(): void {
    for (const h of this.running.values()) h.stop.abort(new Error('Enclave is shutting down'));
  }

  private async runWithSlot(helper: RunningHelper, spawner: GroupConfig, brief: string): Promise<TurnResult> {
    const release = await this.d.acquireSlot(helper.stop.signal);
    try {
      return await this.runContainer(helper, spawner, brief);
    } finally {
      release();
    }
  }

  private async runContainer(helper: RunningHelper, spawner: GroupConfig, brief: string): Promise<TurnResult> {
    const signal = helper.stop.signal;
    const server = await this.d.openSocket(helper.name, spawner.name, (run) => this.scope.run(helper, run));
    let container: AgentContainer | undefined;
    try {
      signal.throwIfAborted();
      container = await this.d.startContainer(helper.name, dirname(server.socketPath));
      signal.throwIfAborted();
      const stopped = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      const crashed = container.exited.then((code) => Promise.reject(new Error(`the helper's container stopped (exit code ${code})`)));
      return await Promise.race([server.dispatch(this.request(helper, spawner, brief)), stopped, crashed]);
    } finally {
      server.abort(new Error('the helper ended'));
      await container?.remove();
      await this.d.closeSocket(helper.name);
    }
  }

  private request(helper: RunningHelper, spawner: GroupConfig, brief: string): TurnRequest {
    return {
      turnId: randomUUID(),
      group: helper.name,
      assistantName: this.d.config().enclave.assistantName,
      model: this.d.model(spawner),
      messages: [{ role: 'user', content: brief }],
      maxSteps: spawner.maxSteps,
      context:
        `You are a short-lived helper agent that the agent "${spawner.name}" started for one piece of work. You have no chat, no memory ` +
        'and no host tools; your workspace is an empty scratch folder deleted when you finish. Your final answer goes back to that agent.',
      tools: [],
      skills: [],
    };
  }

  /** The spawner's chain: its team turn's, the one its chat turn already started, or a new one from its chat. */
  private chainFor(caller: TeamCaller, team: string, limitMicros: number): string {
    const { group, turnId } = caller;
    const mine = this.d.turns.get(group.name, turnId)?.chainId ?? this.turnChains.get(turnId)?.chainId ?? this.d.store.chainStartedBy(turnId);
    if (mine) return mine;
    const chain = this.d.store.createChain({ team, originGroup: group.name, origin: caller.chat.channel ? caller.chat : undefined, limitMicros });
    this.turnChains.set(turnId, { group: group.name, chainId: chain.id });
    return chain.id;
  }

  private refuse(group: GroupConfig, reason: string, chain: string | null = null): TeamError {
    this.d.audit.append({ kind: 'team', group: group.name, actor: `agent:${group.name}`, detail: { action: 'helper_refused', chain, reason } });
    return new TeamError(reason, 'refused', { chain });
  }
}

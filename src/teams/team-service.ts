import type { ChatRef } from '../../channels/chat-ref.js';
import { MAX_TEAM_RESULT_CHARS } from '../../container/agent/team-tool-contract.js';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { usdToMicros } from '../ledger/money.js';
import { cappedReply } from '../socket/group-socket-server.js';
import { planHop } from './chain-rules.js';
import { strandedReason } from './stranded.js';
import { openTaskLimitRefusal } from './task-limits.js';
import { TeamError } from './team-error.js';
import type { TeamTask, TeamTaskKind, TeamTaskStore } from './team-store.js';
import type { AskWaiters, TeamTurns } from './team-turns.js';
import { displayText } from './display-text.js';

type Chat = ChatRef & { threadId?: string };

/** Who calls: the group of the socket the call came in on, its running turn, and that turn's chat ('' for none). */
export interface TeamCaller {
  group: GroupConfig;
  turnId: string;
  chat: Chat;
}

export interface TeamServiceDeps {
  config: () => Config;
  store: TeamTaskStore;
  turns: TeamTurns;
  waiters: AskWaiters;
  audit: AuditSink;
  /** Asks the group queue for a turn of this group. */
  wake: (group: string) => void;
  /** Runs `waiting` with the group's queue slot lent out (GroupQueue.lendSlotWhile). */
  lendSlotWhile: <T>(group: string, waiting: Promise<T>) => Promise<T>;
  /** A host message to a chat (the chain's origin). */
  tellChat: (group: string, chat: Chat, text: string) => void;
  /** Ends the group's running turn now (ContainerManager.abortTurn). */
  abortTurn: (group: string) => void;
  /** Resolves after ms unless aborted (real time in production). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The chain this chat turn's spawn_helper helpers already started (HelperRunner.turnChain), if any. */
  turnChain?: (turnId: string) => string | undefined;
}

export type AskOutcome = { ok: true; task: TeamTask; answer: string } | { ok: false; task: TeamTask; reason: string };

/** Every team operation, written once: the agents' tools, the chat command and the CLI call these. */
export class TeamService {
  constructor(private readonly d: TeamServiceDeps) {}

  /** A new task for `to` in the caller's chain (or a new chain from the caller's chat), after the host's hop rules. */
  delegate(caller: TeamCaller, kind: TeamTaskKind, to: string, title: string, brief: string): TeamTask {
    const { store, turns } = this.d;
    const teamName = caller.group.team?.name;
    const team = teamName ? this.d.config().enclave.teams[teamName] : undefined;
    if (!teamName || !team) throw new TeamError('your group is in no team', 'refused');
    const mine = turns.get(caller.group.name, caller.turnId);
    const chainId = mine ? mine.chainId : (store.chainStartedBy(caller.turnId) ?? this.d.turnChain?.(caller.turnId));
    const currentChain = chainId === undefined ? undefined : store.chain(chainId);
    const current = currentChain && { chain: currentChain, depth: mine?.depth ?? 0, visited: mine?.visited ?? [caller.group.name] };
    const plan = planHop({ team, from: caller.group, to, current, openFromTurn: store.openFromTurn(caller.turnId) });
    const open = store.openCounts(teamName, current?.chain.id);
    const refusal = plan.ok ? openTaskLimitRefusal(open.team, open.chain) : plan.reason;
    if (!plan.ok || refusal !== undefined) {
      this.audit(caller.group.name, `agent:${caller.group.name}`, { action: `${kind}_refused`, to: to.slice(0, 64), chain: current?.chain.id ?? null, reason: refusal });
      throw new TeamError(refusal ?? 'refused', 'refused', { chain: current?.chain.id ?? null });
    }
    const chain =
      currentChain ??
      store.createChain({ team: teamName, originGroup: caller.group.name, origin: caller.chat.channel ? caller.chat : undefined, limitMicros: usdToMicros(team.maxChainUsd) });
    const task = store.create({
      chainId: chain.id, team: teamName, kind, from: caller.group.name, to, parentTask: mine?.parentTask ?? null, fromTurn: caller.turnId,
      depth: plan.depth, visited: plan.visited, title, brief,
    });
    this.audit(caller.group.name, `agent:${caller.group.name}`, { action: kind, task: task.id, chain: chain.id, to, depth: task.depth });
    this.d.wake(to);
    return task;
  }

  /** ask_agent: a task, then a wait inside the caller's turn with its queue slot lent out, bounded by askTimeoutSeconds. */
  async ask(caller: TeamCaller, to: string, question: string): Promise<AskOutcome> {
    const task = this.delegate(caller, 'ask', to, firstLine(question), question);
    const team = this.d.config().enclave.teams[task.team]!;
    const answered = this.d.waiters.wait(task.id, caller.group.name);
    const stopTimer = new AbortController();
    const timedOut = this.d.sleep(team.askTimeoutSeconds * 1000, stopTimer.signal).then(() => undefined, () => undefined);
    const done = await this.d.lendSlotWhile(caller.group.name, Promise.race([answered, timedOut]));
    stopTimer.abort();
    if (!done) {
      this.d.waiters.forget(task.id);
      this.d.store.detach(task.id);
      return { ok: false, task, reason: `"${to}" did not answer within ${team.askTimeoutSeconds} seconds; if it answers later, its answer comes to you as a new message` };
    }
    if (done.state === 'done') return { ok: true, task: done, answer: done.result ?? '' };
    return { ok: false, task: done, reason: `"${to}" could not answer: ${done.error ?? done.state}` };
  }

  /** complete_task / fail_task: only for the task the caller's running turn works on. */
  finishByAgent(caller: TeamCaller, id: number, state: 'done' | 'failed', text: string): TeamTask {
    const mine = this.d.turns.get(caller.group.name, caller.turnId);
    if (mine?.taskId !== id) throw new TeamError(`you are not working on a task #${id} in this turn`, 'not_found');
    if (!this.d.store.finish(id, state, text)) throw new TeamError(`task #${id} is already finished`, 'refused');
    this.settle(id);
    return this.d.store.get(id)!;
  }

  /** The end of a task turn: its reply is the result unless the agent finished the task itself. */
  endTaskTurn(id: number, outcome: { ok: true; reply: string } | { ok: false; error: string }): void {
    const finished = outcome.ok ? this.d.store.finish(id, 'done', cappedReply(outcome.reply || '(the agent gave no answer)', MAX_TEAM_RESULT_CHARS)) : this.d.store.finish(id, 'failed', outcome.error);
    if (finished) this.settle(id);
  }

  /**
   * Queued tasks whose team or recipient the config no longer has fail back to their sender with
   * the reason (an ask gets it at once); run after every config reload and at start.
   */
  failStranded(): TeamTask[] {
    const config = this.d.config();
    const failed: TeamTask[] = [];
    for (const task of this.d.store.queued()) {
      const reason = strandedReason(config, task);
      if (reason !== undefined && this.d.store.finish(task.id, 'failed', reason)) failed.push(task);
    }
    // All failed before any sender is woken: a sender reads its failures in one turn.
    for (const task of failed) this.settle(task.id);
    return failed;
  }

  /** The owner's /team cancel: the task and every open task of its chain; the chain's running turns are stopped. */
  cancel(id: number, actor: string, team?: string): TeamTask[] {
    const task = this.d.store.get(id);
    if (!task || (team && task.team !== team)) throw new TeamError(`there is no team task #${id}`, 'not_found');
    this.d.store.setChainState(task.chainId, 'cancelled');
    const cancelled: TeamTask[] = [];
    for (const open of this.d.store.openInChain(task.chainId)) {
      if (!this.d.store.finish(open.id, 'cancelled', `cancelled by ${actor}`)) continue;
      cancelled.push(open);
      this.settle(open.id, false);
    }
    for (const group of this.d.turns.groupsWorkingFor(task.chainId)) this.d.abortTurn(group);
    this.audit(task.from, actor, { action: 'cancel', task: id, chain: task.chainId, cancelled: cancelled.map((t) => t.id) });
    return cancelled;
  }

  /** A finished task goes to its waiting ask, or else to its sender as a new turn; a first hop that fails tells the chat. */
  private settle(id: number, tellOrigin = true): void {
    const task = this.d.store.get(id)!;
    this.audit(task.to, 'host', { action: 'finished', task: id, chain: task.chainId, state: task.state });
    if (this.d.waiters.resolve(task)) {
      this.d.store.markReported(id);
      return;
    }
    if (tellOrigin && task.state === 'failed' && task.depth >= 2 && this.d.store.setChainState(task.chainId, 'gave_up')) {
      this.tellOrigin(task, `The agents gave up on this work: "${task.to}" could not do task #${task.id} ("${displayText(task.title)}") for "${task.from}": ${displayText(task.error ?? task.state, 300)}.`);
    } else if (tellOrigin && task.state !== 'done' && task.depth === 1 && task.kind === 'hand_off') {
      this.tellOrigin(task, `The work handed to "${task.to}" (task #${task.id}, "${displayText(task.title)}") failed: ${displayText(task.error ?? task.state, 300)}.`);
    }
    this.d.wake(task.from);
  }

  tellOrigin(task: TeamTask, text: string): void {
    const chain = this.d.store.chain(task.chainId);
    if (chain?.origin) this.d.tellChat(chain.originGroup, chain.origin, text);
  }

  private audit(group: string, actor: string, detail: Record<string, unknown>): void {
    this.d.audit.append({ kind: 'team', group, actor, detail });
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

import { randomUUID } from 'node:crypto';
import { parseChatRef } from '../../channels/chat-ref.js';
import type { ChatTurnMessage, TurnRequest } from '../../container/agent/protocol.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { ContainerManager } from '../container/container-manager.js';
import type { ActiveTurns } from '../core/active-turns.js';
import type { Outbox } from '../core/outbox.js';
import type { History } from '../db/history.js';
import type { Logger } from '../logger.js';
import { resultsInput, taskInput } from './team-inputs.js';
import type { TeamService } from './team-service.js';
import { strandedReason } from './stranded.js';
import type { TeamChain, TeamTask, TeamTaskStore } from './team-store.js';
import type { AskWaiters, TeamTurn, TeamTurns } from './team-turns.js';

export interface TeamTurnRunnerDeps {
  config: () => Config;
  store: TeamTaskStore;
  service: TeamService;
  teamTurns: TeamTurns;
  waiters: AskWaiters;
  turns: ActiveTurns;
  containers: () => ContainerManager;
  outbox: Outbox;
  history: History;
  model: (group: GroupConfig) => string;
  stopping: () => boolean;
  log: Logger;
  clock: Clock;
}

/**
 * Team work as turns of the recipient, run by the same group queue as chat messages: a task
 * waiting for the group, or the results of tasks the group sent. A turn runs in the group's own
 * container with its own memory; model calls are paid from the group's budget and the chain's.
 */
export class TeamTurnRunner {
  /** Chat groups told their events turns fail, until one succeeds: another agent's publishes must not post a failure each interval. */
  private readonly eventsFailureTold = new Set<string>();

  constructor(private readonly d: TeamTurnRunnerDeps) {}

  hasWork(group: string): boolean {
    return this.d.store.hasQueued(group) || this.reportable(group).length > 0;
  }

  async runNext(group: string): Promise<void> {
    const task = this.d.store.claimNext(group);
    if (task) return this.runTask(task);
    const results = this.reportable(group);
    if (results.length) await this.runResults(group, results);
  }

  /** Finished tasks the group sent that no running ask is waiting for, from one place in one chain (oldest first). */
  private reportable(group: string): TeamTask[] {
    const all = this.d.store.unreported(group).filter((t) => !this.d.waiters.has(t.id));
    const first = all[0];
    return first ? all.filter((t) => t.chainId === first.chainId && t.parentTask === first.parentTask) : [];
  }

  private async runTask(task: TeamTask): Promise<void> {
    const { store, service } = this.d;
    const chain = store.chain(task.chainId);
    const group = this.d.config().groups.get(task.to);
    if (!chain || chain.state !== 'open') return service.endTaskTurn(task.id, { ok: false, error: 'the chain of work was cancelled' });
    const stranded = strandedReason(this.d.config(), task);
    if (!group || stranded !== undefined) return service.endTaskTurn(task.id, { ok: false, error: stranded ?? `"${task.to}" is no longer a group` });
    const place = { depth: task.depth, visited: task.visited, parentTask: task.id };
    const outcome = await this.turn(group, chain, task.id, place, [{ role: 'user', content: taskInput(task) }], `You are working on team task #${task.id} for the agent "${task.from}" in team "${task.team}".`);
    if (outcome === 'interrupted') return;
    service.endTaskTurn(task.id, outcome);
  }

  private async runResults(group: string, results: TeamTask[]): Promise<void> {
    const cfg = this.d.config().groups.get(group);
    const chain = this.d.store.chain(results[0]!.chainId);
    if (!cfg || !chain) {
      for (const t of results) this.d.store.markReported(t.id);
      return;
    }
    const input: ChatTurnMessage = { role: 'user', content: resultsInput(results) };
    // The results answer tasks sent from one place in the chain: the turn reading them stands there again.
    const sent = results[0]!;
    const place = { depth: sent.depth - 1, visited: sent.visited.slice(0, -1), parentTask: sent.parentTask };
    const outcome = await this.turn(cfg, chain, undefined, place, [input], `Agents of your team "${chain.team}" finished work you gave them.`);
    if (outcome === 'interrupted') return;
    for (const t of results) this.d.store.markReported(t.id);
    const chat = chatOf(cfg, chain);
    if (!chat) {
      if (!outcome.ok) this.d.log.warn({ group, err: outcome.error }, 'a worker could not take in the results of its team tasks');
      return;
    }
    this.answerChat(group, chat, input, outcome, `Sorry, I could not take in what the other agents sent back: ${outcome.ok ? '' : outcome.error}`, `team-results:${results.map((t) => t.id).join(',')}`);
  }

  /**
   * A turn reading events other agents published. It is in no chain, so its model calls are paid
   * from the group's own budget only. A chat group answers in its first chat; a worker's answer
   * goes nowhere (what it keeps is what it writes to its memory).
   */
  async runEvents(group: GroupConfig, input: string, dedupeKey: string, remembered = input): Promise<{ ok: true } | { ok: false; error: string } | 'interrupted'> {
    const first = group.chats[0];
    const chat = first === undefined ? undefined : parseChatRef(first);
    const message: ChatTurnMessage = { role: 'user', content: input };
    const about = `Agents of your team "${group.team?.name ?? ''}" published events to topics you subscribe to.`;
    const outcome = await this.turn(group, undefined, undefined, { depth: 0, visited: [group.name], parentTask: null }, [message], about, chat);
    if (outcome === 'interrupted') return outcome;
    const toldAlready = this.eventsFailureTold.has(group.name);
    if (outcome.ok) this.eventsFailureTold.delete(group.name);
    else this.eventsFailureTold.add(group.name);
    if (!outcome.ok && toldAlready) return outcome;
    // History keeps a short copy: every later chat turn re-reads it, and the payloads are another agent's to size.
    if (chat) this.answerChat(group.name, chat, { role: 'user', content: remembered }, outcome, `Sorry, I could not take in the events the other agents published: ${outcome.ok ? '' : outcome.error}`, dedupeKey);
    return outcome.ok ? { ok: true } : outcome;
  }

  private answerChat(group: string, chat: NonNullable<TeamChain['origin']>, input: ChatTurnMessage, outcome: { ok: true; reply: string } | { ok: false; error: string }, failure: string, dedupeKey: string): void {
    const text = outcome.ok ? outcome.reply : failure;
    if (outcome.ok) this.d.history.append(group, [input, { role: 'assistant', content: outcome.reply }]);
    if (text) {
      this.d.outbox.add({ group, channel: chat.channel, chatId: chat.chatId, threadId: chat.threadId, text, dedupeKey });
      void this.d.outbox.flushChat(chat.channel, chat.chatId);
    }
  }

  /** A turn without a chain (events) is no team turn: it pays from the group's own budget only. */
  private async turn(group: GroupConfig, chain: TeamChain | undefined, taskId: number | undefined, place: Pick<TeamTurn, 'depth' | 'visited' | 'parentTask'>, messages: ChatTurnMessage[], about: string, chat = chain && chatOf(group, chain)): Promise<{ ok: true; reply: string } | { ok: false; error: string } | 'interrupted'> {
    const cfg = this.d.config();
    const turnId = randomUUID();
    const now = new Date(this.d.clock()).toLocaleString('en-GB', { timeZone: group.timezone, dateStyle: 'full', timeStyle: 'short' });
    const request: TurnRequest = {
      turnId,
      group: group.name,
      assistantName: cfg.enclave.assistantName,
      model: this.d.model(group),
      messages: [...(chat && taskId === undefined ? this.d.history.recent(group.name, cfg.enclave.defaults.historyMessages) : []), ...messages],
      maxSteps: group.maxSteps,
      context: `${about} ${chat ? `Your answer goes to your chat on ${chat.channel}.` : 'You have no chat here: your final answer goes back to the agent.'} It is now ${now} (${group.timezone}).`,
      tools: group.tools,
      skills: group.skillFiles.map((sk) => ({ name: sk.name, description: sk.description })),
    };
    this.d.turns.begin(turnId, { group: group.name, channel: chat?.channel ?? '', chatId: chat?.chatId ?? '', threadId: chat?.threadId, replyTo: '', sent: 0 });
    if (chain) this.d.teamTurns.begin(turnId, { group: group.name, chainId: chain.id, taskId, paysChain: taskId !== undefined || group.name !== chain.originGroup, ...place });
    try {
      const result = await this.d.containers().runTurn(group, request, cfg.enclave.container.turnTimeoutSeconds * 1000);
      return result.ok ? { ok: true, reply: result.reply } : { ok: false, error: result.error ?? 'the agent failed' };
    } catch (err) {
      if (this.d.stopping()) return 'interrupted';
      return { ok: false, error: (err as Error).message };
    } finally {
      this.d.teamTurns.end(turnId);
      this.d.turns.end(turnId);
    }
  }
}

/** The chain's chat, when it is one of this group's: a chat group answers there; a worker has none. */
function chatOf(group: GroupConfig, chain: TeamChain): TeamChain['origin'] {
  const origin = chain.origin;
  return origin && group.chats.includes(`${origin.channel}:${origin.chatId}`) ? origin : undefined;
}

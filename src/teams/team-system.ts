import type { ChatRef } from '../../channels/chat-ref.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { ContainerManager } from '../container/container-manager.js';
import type { ActiveTurns } from '../core/active-turns.js';
import type { GroupQueue } from '../core/group-queue.js';
import type { Outbox } from '../core/outbox.js';
import type { Db } from '../db/database.js';
import type { History } from '../db/history.js';
import type { BudgetLedger } from '../ledger/types.js';
import type { Logger } from '../logger.js';
import { sleep } from '../time/sleep.js';
import type { HostTool } from '../tools/host-tool.js';
import { BoardService } from './board-service.js';
import { BoardStore } from './board-store.js';
import { ChainBudget, chainAwareLedger } from './chain-budget.js';
import { TeamEventStore } from './event-store.js';
import { type EventTimer, realEventTimer, TeamEvents } from './team-events.js';
import { HelperRunner } from './helper-runner.js';
import type { SocketServers } from '../socket/socket-servers.js';
import { TeamService } from './team-service.js';
import { TeamTaskStore } from './team-store.js';
import { teamTools } from './team-tools.js';
import { TeamTurnRunner } from './team-turn-runner.js';
import { AskWaiters, TeamTurns } from './team-turns.js';

export interface TeamSystemDeps {
  db: Db;
  clock: Clock;
  config: () => Config;
  /** The agents' audit sink (throttled): hand-offs, asks and board writes. */
  audit: AuditSink;
  log: Logger;
  outbox: Outbox;
  history: History;
  turns: ActiveTurns;
  model: (group: GroupConfig) => string;
  tellChat: (group: string, chat: ChatRef & { threadId?: string }, text: string) => void;
  stopping: () => boolean;
  /** Built after the team system: read when first needed. */
  containers: () => ContainerManager;
  queue: () => GroupQueue;
  /** The sockets, for each helper's own (spawn_helper). */
  sockets: () => Pick<SocketServers, 'helper' | 'close'>;
  /** ask_agent's timer (real time unless a test injects one). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The wake-up for a subscriber whose events wait for its interval (real timers unless a test injects them). */
  eventTimer?: EventTimer;
}

/** The agent-teams parts, built once and wired into the host by app.ts. */
export class TeamSystem {
  readonly store: TeamTaskStore;
  readonly board: BoardStore;
  readonly turns = new TeamTurns();
  readonly waiters = new AskWaiters();
  readonly chainBudget: ChainBudget;
  readonly service: TeamService;
  readonly boardService: BoardService;
  readonly runner: TeamTurnRunner;
  readonly eventStore: TeamEventStore;
  readonly events: TeamEvents;
  readonly helpers: HelperRunner;

  constructor(d: TeamSystemDeps) {
    this.store = new TeamTaskStore(d.db, d.clock);
    this.board = new BoardStore(d.db, d.clock);
    this.chainBudget = new ChainBudget(d.db);
    this.service = new TeamService({
      config: d.config, store: this.store, turns: this.turns, waiters: this.waiters, audit: d.audit, tellChat: d.tellChat,
      wake: (group) => d.queue().enqueue(group),
      lendSlotWhile: (group, waiting) => d.queue().lendSlotWhile(group, waiting),
      abortTurn: (group) => void d.containers().abortTurn(group),
      sleep: d.sleep ?? sleep,
      // One chat turn is one chain, whether its helpers or its hand-offs started it.
      turnChain: (turnId) => this.helpers.turnChain(turnId),
    });
    this.boardService = new BoardService(this.board, d.audit);
    this.helpers = new HelperRunner({
      config: d.config, store: this.store, turns: this.turns, audit: d.audit, model: d.model,
      startContainer: (name, socketDir) => d.containers().startHelper(name, socketDir),
      openSocket: (name, payer, scope) => d.sockets().helper(name, payer, scope),
      closeSocket: (name) => d.sockets().close(name),
      acquireSlot: (signal) => d.queue().acquireHelperSlot(signal),
      lendSlotWhile: (group, waiting) => d.queue().lendSlotWhile(group, waiting),
      sleep: d.sleep ?? sleep,
    });
    this.runner = new TeamTurnRunner({
      config: d.config, store: this.store, service: this.service, teamTurns: this.turns, waiters: this.waiters, turns: d.turns,
      containers: d.containers, outbox: d.outbox, history: d.history, model: d.model, stopping: d.stopping, log: d.log, clock: d.clock,
    });
    this.eventStore = new TeamEventStore(d.db, d.clock);
    this.events = new TeamEvents({
      config: d.config, store: this.eventStore, audit: d.audit, clock: d.clock, log: d.log, timer: d.eventTimer ?? realEventTimer, stopping: d.stopping,
      wake: (group) => d.queue().enqueue(group),
      runTurn: (group, input, dedupeKey, remembered) => this.runner.runEvents(group, input, dedupeKey, remembered),
    });
  }

  /** The ledger the model proxy uses: chain turns and helpers reserve on their chain too. */
  ledger(inner: BudgetLedger): BudgetLedger {
    return chainAwareLedger(this.helpers.spendLedger(inner), this.chainBudget, (group) => this.helpers.currentChain() ?? this.turns.chainOf(group));
  }

  tools(): HostTool[] {
    return teamTools(this.service, this.boardService, this.turns, this.events, this.helpers);
  }

  /** The group queue's turn: team work first, then the group's chat messages; true when more of either waits. */
  turnRunner(chatTurn: (group: string) => Promise<boolean>, chatQueued: (group: string) => boolean): (group: string) => Promise<boolean> {
    const teamWork = (group: string) => this.runner.hasWork(group) || this.events.hasWork(group);
    return async (group) => {
      try {
        if (this.runner.hasWork(group)) await this.runner.runNext(group);
        else if (this.events.hasWork(group)) await this.events.runNext(group);
        else return (await chatTurn(group)) || teamWork(group);
      } finally {
        // An ask that outlived its turn (a turn timeout) waits no more: its answer comes as a new turn.
        this.waiters.forgetGroup(group);
      }
      return teamWork(group) || chatQueued(group);
    };
  }

  /**
   * After a start: open chain reservations are charged, interrupted tasks queued again, tasks whose
   * recipient left the team fail back to their senders, old finished work is pruned; the groups with team work or events waiting.
   */
  resume(): string[] {
    this.chainBudget.chargeOpenReservations();
    this.store.pruneIfDue();
    this.store.dropWaitedAsks();
    const groups = this.store.requeueInterrupted();
    this.service.failStranded();
    return [...groups, ...this.events.waiting().filter((g) => !groups.includes(g))];
  }

  /** After the groups were read again: queued tasks nobody can take any more fail back to their senders. */
  afterReload(): void {
    this.service.failStranded();
  }
}

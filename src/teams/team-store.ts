import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { TEAM_TASK_RETENTION_DAYS } from './task-limits.js';

export type TeamTaskState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type TeamTaskKind = 'ask' | 'hand_off';

export interface TeamChain {
  id: string;
  team: string;
  originGroup: string;
  /** The chat the chain started from; it is told when the chain gives up. */
  origin?: { channel: string; chatId: string; threadId?: string };
  limitMicros: number;
  spentMicros: number;
  reservedMicros: number;
  state: 'open' | 'gave_up' | 'cancelled';
}

export interface TeamTask {
  id: number;
  chainId: string;
  team: string;
  kind: TeamTaskKind;
  from: string;
  to: string;
  parentTask: number | null;
  /** The sender's turn that asked (an ask is answered inside it while it still runs). */
  fromTurn: string | null;
  depth: number;
  /** Every agent on the way from the chain's start to this task's recipient: a loop is a name already here. */
  visited: string[];
  title: string;
  brief: string;
  state: TeamTaskState;
  result: string | null;
  error: string | null;
  reported: boolean;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

interface TaskRow {
  id: number; chain_id: string; team: string; kind: TeamTaskKind; from_group: string; to_group: string; parent_task: number | null;
  from_turn: string | null; depth: number; visited: string; title: string; brief: string; state: TeamTaskState; result: string | null;
  error: string | null; reported: number; created_at: number; started_at: number | null; finished_at: number | null;
}
interface ChainRow {
  id: string; team: string; origin_group: string; origin_channel: string | null; origin_chat_id: string | null; origin_thread_id: string | null;
  limit_micros: number; spent_micros: number; reserved_micros: number; state: TeamChain['state'];
}

export type NewTeamTask = Pick<TeamTask, 'chainId' | 'team' | 'kind' | 'from' | 'to' | 'parentTask' | 'fromTurn' | 'depth' | 'visited' | 'title' | 'brief'>;

const OPEN: readonly TeamTaskState[] = ['queued', 'running'];
const DAY_MS = 24 * 60 * 60 * 1000;

/** Chains and team tasks in SQLite: they survive a restart, and each task finishes exactly once. */
export class TeamTaskStore {
  private lastPrunedAt = -Infinity;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** At most once a day (at start, then as new chains begin): forgets what finished more than TEAM_TASK_RETENTION_DAYS ago. */
  pruneIfDue(): { tasks: number; chains: number } {
    const now = this.clock();
    if (now - this.lastPrunedAt < DAY_MS) return { tasks: 0, chains: 0 };
    this.lastPrunedAt = now;
    return this.prune(now - TEAM_TASK_RETENTION_DAYS * DAY_MS);
  }

  createChain(c: Pick<TeamChain, 'team' | 'originGroup' | 'origin' | 'limitMicros'>): TeamChain {
    this.pruneIfDue();
    const id = randomUUID();
    this.db
      .prepare(`INSERT INTO team_chains (id, team, origin_group, origin_channel, origin_chat_id, origin_thread_id, limit_micros, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)`)
      .run(id, c.team, c.originGroup, c.origin?.channel ?? null, c.origin?.chatId ?? null, c.origin?.threadId ?? null, c.limitMicros, this.clock());
    return this.chain(id)!;
  }

  chain(id: string): TeamChain | undefined {
    const row = this.db.prepare<[string], ChainRow>('SELECT * FROM team_chains WHERE id = ?').get(id);
    return row && toChain(row);
  }

  setChainState(id: string, state: TeamChain['state']): boolean {
    return this.db.prepare(`UPDATE team_chains SET state = ? WHERE id = ? AND state = 'open'`).run(state, id).changes === 1;
  }

  create(t: NewTeamTask): TeamTask {
    const info = this.db
      .prepare(
        `INSERT INTO team_tasks (chain_id, team, kind, from_group, to_group, parent_task, from_turn, depth, visited, title, brief, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)`,
      )
      .run(t.chainId, t.team, t.kind, t.from, t.to, t.parentTask, t.fromTurn, t.depth, JSON.stringify(t.visited), t.title, t.brief, this.clock());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): TeamTask | undefined {
    const row = this.db.prepare<[number], TaskRow>('SELECT * FROM team_tasks WHERE id = ?').get(id);
    return row && toTask(row);
  }

  /** The group's oldest queued task, now running; undefined when none waits. */
  claimNext(group: string): TeamTask | undefined {
    return this.db.transaction(() => {
      const row = this.db.prepare<[string], TaskRow>(`SELECT * FROM team_tasks WHERE to_group = ? AND state = 'queued' ORDER BY id LIMIT 1`).get(group);
      if (!row) return undefined;
      this.db.prepare(`UPDATE team_tasks SET state = 'running', started_at = ? WHERE id = ?`).run(this.clock(), row.id);
      return this.get(row.id);
    })();
  }

  hasQueued(group: string): boolean {
    return this.db.prepare(`SELECT 1 FROM team_tasks WHERE to_group = ? AND state = 'queued' LIMIT 1`).get(group) !== undefined;
  }

  /** Moves an open task to its final state; false when it had already finished (it finishes once). */
  finish(id: number, state: 'done' | 'failed' | 'cancelled', text: string): boolean {
    const column = state === 'done' ? 'result' : 'error';
    return this.db
      .prepare(`UPDATE team_tasks SET state = ?, ${column} = ?, finished_at = ? WHERE id = ? AND state IN ('queued', 'running')`)
      .run(state, text, this.clock(), id).changes === 1;
  }

  /** Finished tasks this group sent whose outcome it has not been given yet, oldest first. */
  unreported(group: string): TeamTask[] {
    return this.db
      .prepare<[string], TaskRow>(`SELECT * FROM team_tasks WHERE from_group = ? AND reported = 0 AND state IN ('done', 'failed', 'cancelled') ORDER BY id`)
      .all(group)
      .map(toTask);
  }

  markReported(id: number): boolean {
    return this.db.prepare('UPDATE team_tasks SET reported = 1 WHERE id = ? AND reported = 0').run(id).changes === 1;
  }

  /** The asker stopped waiting for this ask: its answer, when it comes, is reported in a new turn. */
  detach(id: number): void {
    this.db.prepare('UPDATE team_tasks SET detached = 1 WHERE id = ?').run(id);
  }

  /**
   * After a stop: asks their asker still waited for are dropped (with everything asked on their
   * behalf), since the interrupted asker runs again and asks anew; otherwise the chat would get
   * two answers. Returns how many were dropped.
   */
  dropWaitedAsks(): number {
    return this.db
      .prepare(
        `UPDATE team_tasks SET state = CASE WHEN state IN ('queued', 'running') THEN 'cancelled' ELSE state END,
           error = CASE WHEN state IN ('queued', 'running') THEN 'the asker was interrupted by a restart and asks again' ELSE error END,
           finished_at = COALESCE(finished_at, ?), reported = 1
         WHERE kind = 'ask' AND detached = 0 AND reported = 0`,
      )
      .run(this.clock()).changes;
  }

  /** Tasks a stopped host left running go back to the queue; returns the groups that have work. */
  requeueInterrupted(): string[] {
    this.db.prepare(`UPDATE team_tasks SET state = 'queued', started_at = NULL WHERE state = 'running'`).run();
    const rows = this.db
      .prepare<[], { g: string }>(
        `SELECT to_group AS g FROM team_tasks WHERE state = 'queued' UNION SELECT from_group AS g FROM team_tasks WHERE reported = 0 AND state IN ('done', 'failed', 'cancelled')`,
      )
      .all();
    return rows.map((r) => r.g);
  }

  /** The chain a turn outside any chain (a chat or scheduled turn) started with its first task: one chain, one budget, per turn. */
  chainStartedBy(turnId: string): string | undefined {
    return this.db.prepare<[string], { c: string }>('SELECT chain_id AS c FROM team_tasks WHERE from_turn = ? ORDER BY id LIMIT 1').get(turnId)?.c;
  }

  /** Open tasks handed out by one turn (its fan-out). */
  openFromTurn(turnId: string): number {
    return (this.db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM team_tasks WHERE from_turn = ? AND state IN ('queued', 'running')`).get(turnId)?.n ?? 0);
  }

  /** Open tasks of a team, and of one chain when given: the counts the open-task caps check. */
  openCounts(team: string, chainId?: string): { team: number; chain: number } {
    const row = this.db
      .prepare<[string | null, string], { team: number; chain: number }>(
        `SELECT COUNT(*) AS team, COALESCE(SUM(chain_id = ?), 0) AS chain FROM team_tasks WHERE team = ? AND state IN ('queued', 'running')`,
      )
      .get(chainId ?? null, team);
    return { team: row?.team ?? 0, chain: row?.chain ?? 0 };
  }

  /** Every task still waiting for its recipient, oldest first. */
  queued(): TeamTask[] {
    return this.db.prepare<[], TaskRow>(`SELECT * FROM team_tasks WHERE state = 'queued' ORDER BY id`).all().map(toTask);
  }

  /**
   * Forgets finished, reported tasks that finished before `before`, then chains created before it
   * with no task left. Open tasks, unreported outcomes and their chains are kept whatever their age.
   */
  prune(before: number): { tasks: number; chains: number } {
    return this.db.transaction(() => {
      const tasks = this.db
        .prepare(`DELETE FROM team_tasks WHERE state IN ('done', 'failed', 'cancelled') AND reported = 1 AND finished_at < ?`)
        .run(before).changes;
      const chains = this.db
        .prepare(`DELETE FROM team_chains WHERE created_at < ? AND reserved_micros = 0 AND NOT EXISTS (SELECT 1 FROM team_tasks t WHERE t.chain_id = team_chains.id)`)
        .run(before).changes;
      return { tasks, chains };
    })();
  }

  openInChain(chainId: string): TeamTask[] {
    return this.db.prepare<[string], TaskRow>(`SELECT * FROM team_tasks WHERE chain_id = ? AND state IN ('queued', 'running') ORDER BY id`).all(chainId).map(toTask);
  }

  /** Tasks of a team (or every team), open ones only unless `all`; newest first. */
  list(opts: { team?: string; all?: boolean; limit?: number } = {}): TeamTask[] {
    const where = [opts.team ? 'team = @team' : '1', opts.all ? '1' : `state IN (${OPEN.map((s) => `'${s}'`).join(', ')})`].join(' AND ');
    return this.db
      .prepare<{ team?: string; limit: number }, TaskRow>(`SELECT * FROM team_tasks WHERE ${where} ORDER BY id DESC LIMIT @limit`)
      .all({ ...(opts.team ? { team: opts.team } : {}), limit: opts.limit ?? 200 })
      .map(toTask);
  }
}

function toTask(r: TaskRow): TeamTask {
  return {
    id: r.id, chainId: r.chain_id, team: r.team, kind: r.kind, from: r.from_group, to: r.to_group, parentTask: r.parent_task, fromTurn: r.from_turn,
    depth: r.depth, visited: JSON.parse(r.visited) as string[], title: r.title, brief: r.brief, state: r.state, result: r.result, error: r.error,
    reported: r.reported === 1, createdAt: r.created_at, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

function toChain(r: ChainRow): TeamChain {
  return {
    id: r.id, team: r.team, originGroup: r.origin_group,
    origin: r.origin_channel && r.origin_chat_id ? { channel: r.origin_channel, chatId: r.origin_chat_id, threadId: r.origin_thread_id ?? undefined } : undefined,
    limitMicros: r.limit_micros, spentMicros: r.spent_micros, reservedMicros: r.reserved_micros, state: r.state,
  };
}

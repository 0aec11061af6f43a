import type { TeamTask } from './team-store.js';

export interface TeamTurn {
  group: string;
  chainId: string;
  /** The task the turn works on; undefined for a turn that reads results of tasks it sent. */
  taskId?: number;
  /** False for the chain's own origin group reading results: that turn is its own conversation, paid from its own budget. */
  paysChain: boolean;
  /** Where the turn sits in its chain: its task's depth and path, or, for a results turn, those of the task its results answer. */
  depth: number;
  visited: string[];
  /** The task a new hand-off of this turn hangs under (null at the chain's start). */
  parentTask: number | null;
}

/** The turns running for a chain, by turn id: which chain a group's model calls are paid from. */
export class TeamTurns {
  private readonly byTurn = new Map<string, TeamTurn>();

  begin(turnId: string, turn: TeamTurn): void {
    this.byTurn.set(turnId, turn);
  }

  end(turnId: string): void {
    this.byTurn.delete(turnId);
  }

  /** The group's running team turn; undefined when the id is not this group's. */
  get(group: string, turnId: string): TeamTurn | undefined {
    const turn = this.byTurn.get(turnId);
    return turn && turn.group === group ? turn : undefined;
  }

  /** Groups whose running turn works for the chain and spends from it. */
  groupsWorkingFor(chainId: string): string[] {
    return [...this.byTurn.values()].filter((t) => t.chainId === chainId && t.paysChain).map((t) => t.group);
  }

  /** The chain the group's running turn works for (a group runs one turn at a time). */
  chainOf(group: string): string | undefined {
    for (const turn of this.byTurn.values()) if (turn.group === group && turn.paysChain) return turn.chainId;
    return undefined;
  }
}

/** ask_agent calls waiting inside their turn, by task id. */
export class AskWaiters {
  private readonly waiting = new Map<number, (task: TeamTask) => void>();

  wait(taskId: number): Promise<TeamTask> {
    return new Promise((resolve) => this.waiting.set(taskId, resolve));
  }

  has(taskId: number): boolean {
    return this.waiting.has(taskId);
  }

  forget(taskId: number): void {
    this.waiting.delete(taskId);
  }

  /** Hands the finished task to its waiting ask; false when nobody waits (it is reported in a new turn). */
  resolve(task: TeamTask): boolean {
    const resolve = this.waiting.get(task.id);
    if (!resolve) return false;
    this.waiting.delete(task.id);
    resolve(task);
    return true;
  }
}

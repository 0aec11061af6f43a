import { TurnRegistry } from '../core/turn-registry.js';
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
export class TeamTurns extends TurnRegistry<TeamTurn> {
  /** Groups whose running turn works for the chain and spends from it. */
  groupsWorkingFor(chainId: string): string[] {
    return [...this.turns.values()].filter((t) => t.chainId === chainId && t.paysChain).map((t) => t.group);
  }

  /** The chain the group's running turn works for (a group runs one turn at a time). */
  chainOf(group: string): string | undefined {
    for (const turn of this.turns.values()) if (turn.group === group && turn.paysChain) return turn.chainId;
    return undefined;
  }
}

/** ask_agent calls waiting inside their turn, by task id. */
export class AskWaiters {
  private readonly waiting = new Map<number, { group: string; resolve: (task: TeamTask | undefined) => void }>();

  /** The answer, or undefined when the asking turn ended first. */
  wait(taskId: number, group: string): Promise<TeamTask | undefined> {
    return new Promise((resolve) => this.waiting.set(taskId, { group, resolve }));
  }

  has(taskId: number): boolean {
    return this.waiting.has(taskId);
  }

  forget(taskId: number): void {
    this.waiting.delete(taskId);
  }

  /** The group's turn ended: nobody waits any more; a late answer is reported in a new turn. */
  forgetGroup(group: string): void {
    for (const [id, w] of this.waiting) {
      if (w.group !== group) continue;
      this.waiting.delete(id);
      w.resolve(undefined);
    }
  }

  /** Hands the finished task to its waiting ask; false when nobody waits (it is reported in a new turn). */
  resolve(task: TeamTask): boolean {
    const w = this.waiting.get(task.id);
    if (!w) return false;
    this.waiting.delete(task.id);
    w.resolve(task);
    return true;
  }
}

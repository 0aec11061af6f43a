import type { Clock } from '../clock.js';

/** The per-minute limit looks back this far from each call (a sliding window, not a calendar minute). */
const MINUTE_MS = 60_000;

/** How many host-tool calls a group's agent may make: generous for honest use, a wall for a loop. */
export interface ToolLimits {
  /** Host-performed tool calls of every kind in one turn. */
  callsPerTurn: number;
  /** The same across turns, per group and minute. */
  callsPerMinute: number;
  /** send_message and send_file calls in one turn (each is a post in the chat). */
  messagesPerTurn: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = { callsPerTurn: 200, callsPerMinute: 120, messagesPerTurn: 20 };

interface TurnCount {
  turnId: string;
  calls: number;
  messages: number;
}

/**
 * Counts each group's host-tool calls in its running turn and in the last minute. Only the latest
 * turn of a group is kept (a group runs one turn at a time), and only the times of the last
 * `callsPerMinute` calls, so memory stays small per group and no burst across a minute's
 * boundary gets twice the limit.
 */
export class ToolRateLimiter {
  private readonly turns = new Map<string, TurnCount>();
  /** Times of the group's calls in the last minute, oldest first. */
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  private lastMinute(group: string): number[] {
    const now = this.clock();
    let times = this.recent.get(group);
    if (!times) {
      times = [];
      this.recent.set(group, times);
    }
    let expired = 0;
    while (expired < times.length && now - times[expired]! >= MINUTE_MS) expired += 1;
    if (expired > 0) times.splice(0, expired);
    return times;
  }

  /** Counts the call and returns undefined, or says which limit it is over (and counts nothing). */
  take(group: string, turnId: string, tool: string, limits: ToolLimits): string | undefined {
    let turn = this.turns.get(group);
    if (!turn || turn.turnId !== turnId) {
      turn = { turnId, calls: 0, messages: 0 };
      this.turns.set(group, turn);
    }
    const minute = this.lastMinute(group);
    if (turn.calls >= limits.callsPerTurn) {
      return `this turn has made ${limits.callsPerTurn} host tool calls, the most one turn may make; finish the turn with what you have`;
    }
    if (minute.length >= limits.callsPerMinute) {
      return `this group has made ${limits.callsPerMinute} host tool calls in the last minute, the most allowed; wait a minute before calling ${tool} again`;
    }
    const posts = tool === 'send_message' || tool === 'send_file';
    if (posts && turn.messages >= limits.messagesPerTurn) {
      return `this turn has sent ${limits.messagesPerTurn} messages, the most one turn may send; put the rest into your final answer`;
    }
    turn.calls += 1;
    minute.push(this.clock());
    if (posts) turn.messages += 1;
    return undefined;
  }
}

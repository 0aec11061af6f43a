import type { Clock } from '../clock.js';
import { WindowedState } from '../time/windowed-state.js';

/** How many host-tool calls a group's agent may make: generous for honest use, a wall for a loop. */
export interface ToolLimits {
  /** Host-performed tool calls of every kind in one turn. */
  callsPerTurn: number;
  /** The same across turns, per group and minute. */
  callsPerMinute: number;
  /** send_message calls in one turn (each is a post in the chat). */
  messagesPerTurn: number;
}

export const DEFAULT_TOOL_LIMITS: ToolLimits = { callsPerTurn: 200, callsPerMinute: 120, messagesPerTurn: 20 };

interface TurnCount {
  turnId: string;
  calls: number;
  messages: number;
}

/**
 * Counts each group's host-tool calls in its running turn and in the current minute. Only the
 * latest turn of a group is kept (a group runs one turn at a time), so memory stays per group.
 */
export class ToolRateLimiter {
  private readonly turns = new Map<string, TurnCount>();
  private readonly minutes: WindowedState<{ calls: number }>;

  constructor(clock: Clock) {
    this.minutes = new WindowedState(clock, () => ({ calls: 0 }), () => undefined);
  }

  /** Counts the call and returns undefined, or says which limit it is over (and counts nothing). */
  take(group: string, turnId: string, tool: string, limits: ToolLimits): string | undefined {
    let turn = this.turns.get(group);
    if (!turn || turn.turnId !== turnId) {
      turn = { turnId, calls: 0, messages: 0 };
      this.turns.set(group, turn);
    }
    const minute = this.minutes.current(group);
    if (turn.calls >= limits.callsPerTurn) {
      return `this turn has made ${limits.callsPerTurn} host tool calls, the most one turn may make; finish the turn with what you have`;
    }
    if (minute.calls >= limits.callsPerMinute) {
      return `this group has made ${limits.callsPerMinute} host tool calls in the last minute, the most allowed; wait a minute before calling ${tool} again`;
    }
    if (tool === 'send_message' && turn.messages >= limits.messagesPerTurn) {
      return `this turn has sent ${limits.messagesPerTurn} messages, the most one turn may send; put the rest into your final answer`;
    }
    turn.calls += 1;
    minute.calls += 1;
    if (tool === 'send_message') turn.messages += 1;
    return undefined;
  }
}

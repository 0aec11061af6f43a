import type { GroupConfig } from '../config/groups.js';
import type { TeamConfig } from '../config/team-schema.js';
import type { TeamChain } from './team-store.js';

/** Where a new task would sit in its chain, or why the host refuses it. */
export type ChainPlan = { ok: true; depth: number; visited: string[] } | { ok: false; reason: string };

export interface PlanInput {
  team: TeamConfig;
  from: GroupConfig;
  to: string;
  /** Where the caller's turn sits in its chain (depth 0 and [caller] at its start); undefined when the turn starts a new chain. */
  current?: { chain: TeamChain; depth: number; visited: readonly string[] };
  /** Open tasks the caller's turn has already handed out. */
  openFromTurn: number;
}

/**
 * The host's rules for one more hop: the caller's own rights name the recipient (default deny),
 * the chain is still open, not deeper than maxDepth, not back to an agent already on the way
 * (A→B→A), and the turn's fan-out is within maxFanOut. Nothing the agent wrote is consulted.
 */
export function planHop({ team, from, to, current, openFromTurn }: PlanInput): ChainPlan {
  const rights = from.team?.acl.handOffTo ?? [];
  if (!rights.includes(to)) return { ok: false, reason: `you may not hand work to "${to.slice(0, 64)}" (team.handOffTo of your group allows: ${rights.join(', ') || 'nobody'})` };
  if (!team.members.includes(to)) return { ok: false, reason: `"${to}" is not a member of your team` };
  if (current && current.chain.state !== 'open') return { ok: false, reason: `this chain of work was ${current.chain.state === 'cancelled' ? 'cancelled' : 'given up'}; no new tasks can join it` };
  const depth = (current?.depth ?? 0) + 1;
  if (depth > team.maxDepth) return { ok: false, reason: `the chain would be ${depth} hand-offs deep; the team allows ${team.maxDepth} (maxDepth)` };
  const visited = current?.visited ?? [from.name];
  if (visited.includes(to)) return { ok: false, reason: `"${to}" is already working on this chain (${[...visited, to].join(' → ')} would be a loop)` };
  if (openFromTurn >= team.maxFanOut) return { ok: false, reason: `this turn already has ${openFromTurn} open tasks; the team allows ${team.maxFanOut} at once (maxFanOut)` };
  return { ok: true, depth, visited: [...visited, to] };
}

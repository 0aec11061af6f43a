/** The most open (queued or running) tasks one team may have at once: a looping agent cannot pile up work. */
export const MAX_OPEN_TASKS_PER_TEAM = 100;
/** The most open tasks one chain of work may have at once (maxFanOut bounds one turn; this bounds the whole chain). */
export const MAX_OPEN_TASKS_PER_CHAIN = 50;
/** Finished tasks and their chains are kept this long (for `enclave team tasks --all` and /team), then pruned. */
export const TEAM_TASK_RETENTION_DAYS = 30;

/** Why one more open task is refused, or undefined when the team and the chain have room for it. */
export function openTaskLimitRefusal(openInTeam: number, openInChain: number): string | undefined {
  if (openInTeam >= MAX_OPEN_TASKS_PER_TEAM) {
    return `your team already has ${openInTeam} open tasks, the most it may have at once (${MAX_OPEN_TASKS_PER_TEAM}); wait for some to finish before handing out more`;
  }
  if (openInChain >= MAX_OPEN_TASKS_PER_CHAIN) {
    return `this chain of work already has ${openInChain} open tasks, the most one chain may have at once (${MAX_OPEN_TASKS_PER_CHAIN}); wait for some to finish before handing out more`;
  }
  return undefined;
}

import type { Config } from '../config/load.js';
import type { TeamTask } from './team-store.js';

/** Why a task can no longer reach its recipient under this config (its team or the recipient is gone), or undefined when it can. */
export function strandedReason(config: Config, task: Pick<TeamTask, 'team' | 'to'>): string | undefined {
  if (!config.enclave.teams[task.team]) return `the team "${task.team}" no longer exists (it was removed from enclave.yaml)`;
  const group = config.groups.get(task.to);
  if (!group) return `"${task.to}" is no longer a group`;
  if (group.team?.name !== task.team) return `"${task.to}" is no longer a member of the team "${task.team}"`;
  return undefined;
}

import type { Channel } from '../../channels/channel.js';
import type { Clock } from '../clock.js';
import { hostTimezone } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { ContainerManager } from '../container/container-manager.js';
import type { Db } from '../db/database.js';
import { amounts } from '../ledger/budget-report.js';
import { effectiveLimits, groupScope } from '../ledger/limits.js';
import { spendSummary } from '../ledger/spend.js';
import { channelHealthLines } from './commands/status-command.js';
import type { GroupQueue } from './group-queue.js';

export interface HostStatusDeps {
  config: () => Config;
  db: Db;
  channels: ReadonlyMap<string, Channel>;
  containers: ContainerManager;
  queue: GroupQueue;
  startedAt: number;
  clock: Clock;
}

/** One group's spend today against its daily limit, for /status and `enclave status`. */
export function budgetLine(deps: Pick<HostStatusDeps, 'config' | 'db'>, group: string, now: number): string {
  const cfg = deps.config().groups.get(group);
  if (!cfg) return 'unknown group';
  const spend = spendSummary(deps.db, group, cfg.timezone, now, hostTimezone());
  const limits = effectiveLimits(deps.db, groupScope(group), cfg.budget);
  return `today ${amounts(spend.day, limits.day)}; this month ${amounts(spend.month, limits.month)}`;
}

/** `enclave status`: the whole host at a glance. */
export function hostStatus(deps: HostStatusDeps): string {
  const cfg = deps.config();
  const groups = [...cfg.groups.values()].map((g) => {
    const c = deps.containers.state(g.name);
    return `  ${g.name}: container ${c.state}, ${deps.queue.isRunning(g.name) ? 'turn running' : 'idle'}; ${budgetLine(deps, g.name, deps.clock())}`;
  });
  return [
    `Enclave at ${cfg.paths.home}, up since ${new Date(deps.startedAt).toISOString()}`,
    'Channels:',
    ...channelHealthLines(deps.channels),
    `Groups (${cfg.groups.size}):`,
    ...(groups.length ? groups : ['  none']),
    `Turns running: ${deps.queue.activeCount}`,
  ].join('\n');
}

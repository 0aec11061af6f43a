import type { LiveConfig } from '../config/live-config.js';
import type { ContainerManager } from '../container/container-manager.js';
import { diffGroups } from '../services/group-diff.js';
import type { SocketServers } from '../socket/socket-servers.js';

/**
 * Reads every group.yaml again and swaps the running config; the agents of removed or re-mapped
 * groups stop and their sockets close at once, so nothing of an old group reaches whoever uses its
 * name or chat next. Returns the groups now registered.
 */
export async function reloadGroupsAndRetire(live: LiveConfig, containers: ContainerManager, servers: SocketServers): Promise<string[]> {
  const { before, after } = live.reloadGroups();
  const changed = diffGroups(before.groups, after.groups);
  for (const group of [...changed.removed, ...changed.remapped]) {
    await containers.stop(group);
    await servers.close(group);
  }
  return [...after.groups.keys()];
}

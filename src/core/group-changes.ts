import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';

/**
 * Groups whose running agent must go after a reload: removed, or mapped to other chats, or
 * pointed at another folder. Their container stops and their socket closes at once, so nothing
 * of the old group (memory mount, warm process, turn) reaches whoever uses the name next.
 */
export function groupsToRetire(before: Config, after: Config): string[] {
  const retired: string[] = [];
  for (const [name, old] of before.groups) {
    const now = after.groups.get(name);
    if (!now || changedIdentity(old, now)) retired.push(name);
  }
  return retired;
}

function changedIdentity(a: GroupConfig, b: GroupConfig): boolean {
  return a.dir !== b.dir || a.memoryDir !== b.memoryDir || a.chats.join('\n') !== b.chats.join('\n');
}

import type { Config } from '../config/load.js';

/** The local chat id mapped to a group (`local:<id>` in its group.yaml), or a clear error. */
export function localChatOf(config: Config, group: string): string {
  const g = config.groups.get(group);
  if (!g) {
    const known = [...config.groups.keys()].join(', ') || 'none';
    throw new Error(`no group named "${group}" (groups: ${known})`);
  }
  const ref = g.chats.find((c) => c.startsWith('local:'));
  if (!ref) throw new Error(`group "${group}" has no local chat: add "local:${group}" to chats in ${g.dir}/group.yaml`);
  return ref.slice('local:'.length);
}

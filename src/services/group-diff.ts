import type { GroupConfig } from '../config/groups.js';

export interface GroupsDiff {
  /** Configured now, not before. */
  added: string[];
  /** Gone: the host stops its container and closes its socket. */
  removed: string[];
  /**
   * Still there under the same name, but with another folder (removed and re-created) or other chats:
   * what runs for it was set up for the old one.
   */
  remapped: string[];
}

type Mapped = Pick<GroupConfig, 'dir' | 'folderId' | 'chats'>;

/** What a reload changed, for the host to react to (stop, close, restart) whichever front end changed the files. */
export function diffGroups(before: ReadonlyMap<string, Mapped>, after: ReadonlyMap<string, Mapped>): GroupsDiff {
  const diff: GroupsDiff = { added: [], removed: [], remapped: [] };
  for (const name of after.keys()) if (!before.has(name)) diff.added.push(name);
  for (const [name, old] of before) {
    const now = after.get(name);
    if (!now) diff.removed.push(name);
    else if (now.dir !== old.dir || now.folderId !== old.folderId || !sameChats(now.chats, old.chats)) diff.remapped.push(name);
  }
  return diff;
}

function sameChats(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((chat) => set.has(chat));
}

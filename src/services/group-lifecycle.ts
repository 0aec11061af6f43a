import { join } from 'node:path';
import { releaseGroupDisk } from '../container/group-disk.js';
import { rmSync } from 'node:fs';
import { parseChatRef } from '../../channels/chat-ref.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import { createGroupFiles, removeGroupFiles } from '../config/group-files.js';
import { loadGroups } from '../config/groups.js';
import { groupForChat, skillRoots, type Config } from '../config/load.js';
import { History } from '../db/history.js';
import type { Db } from '../db/database.js';
import type { TaskStore } from '../scheduler/task-store.js';

export interface GroupLifecycleDeps {
  db: Db;
  audit: AuditSink;
  clock: Clock;
  /** The configuration as it is now (paths, defaults, the groups). */
  config: () => Config;
  tasks: TaskStore;
  /**
   * Makes the host that serves these groups re-read them: true when a running host did, false when
   * none runs (it reads them at start); throws when the host refused the new set (it keeps the old one).
   * The host stops what belonged to a removed group when it sees it gone.
   */
  reloadHost: () => Promise<boolean>;
}

export interface GroupAdded {
  name: string;
  chat: string;
  dir: string;
  hostReloaded: boolean;
}

export interface GroupRemoved {
  name: string;
  /** Where its folder (memory included) was moved. */
  keptAt: string;
  /** The tasks that ended with it. */
  cancelledTasks: number[];
  hostReloaded: boolean;
}

/** How a group came to be, as the audit records it: `enclave groups add` or the owner's /register in the chat. */
export type GroupAddedVia = 'add' | 'register';

/** Adding and removing a group, written once for the CLI, the chat's /register and the dashboard. */
export class GroupLifecycle {
  constructor(private readonly deps: GroupLifecycleDeps) {}

  async add(req: { name: string; chat: string; actor: string; via: GroupAddedVia }): Promise<GroupAdded> {
    const config = this.deps.config();
    const ref = parseChatRef(req.chat);
    const owner = ref && groupForChat(config, ref.channel, ref.chatId);
    if (owner) throw new Error(`chat ${req.chat} is already mapped to group "${owner.name}" (see: enclave groups show ${owner.name})`);
    const dir = createGroupFiles(config.paths, req.name, req.chat, this.deps.clock());
    try {
      loadGroups(config.paths.groupsDir, config.enclave, config.defaultModel, skillRoots(config.paths));
    } catch (err) {
      // Never leave a folder behind that would stop the next start.
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    this.deps.audit.append({ kind: 'group_change', group: req.name, actor: req.actor, detail: { action: req.via, chat: req.chat } });
    return { name: req.name, chat: req.chat, dir, hostReloaded: await this.deps.reloadHost() };
  }

  /** Unregisters a group: its folder is kept aside, and nothing of it (tasks, conversation, settings, waiting messages) reaches a later group of the same name. */
  async remove(req: { name: string; actor: string }): Promise<GroupRemoved> {
    const { db, tasks } = this.deps;
    const keptAt = removeGroupFiles(this.deps.config().paths, req.name, this.deps.clock());
    const cancelledTasks = db.transaction(() => {
      const open = tasks.list(req.name).filter((task) => tasks.cancel(task.id, req.actor));
      new History(db).reset(req.name);
      db.prepare('DELETE FROM group_settings WHERE group_name = ?').run(req.name);
      db.prepare("UPDATE messages SET status = 'failed' WHERE group_name = ? AND status IN ('queued', 'in_turn')").run(req.name);
      return open.map((task) => task.id);
    })();
    this.deps.audit.append({ kind: 'group_change', group: req.name, actor: req.actor, detail: { action: 'remove' } });
    // The host stops the group's container first; then its disk (moved aside with the folder) can go.
    const hostReloaded = await this.deps.reloadHost();
    await releaseGroupDisk({ dir: keptAt, memoryDir: join(keptAt, 'memory') });
    return { name: req.name, keptAt, cancelledTasks, hostReloaded };
  }
}

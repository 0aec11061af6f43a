import { createGroupFiles, removeGroupFiles } from '../config/group-files.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { releaseGroupDisk } from '../container/group-disk.js';
import { groupForChat, loadConfig } from '../config/load.js';
import { History } from '../core/history.js';
import { TaskStore } from '../scheduler/task-store.js';
import { fail, out } from './output.js';
import { openHomeState, reloadRunningHost } from './home-state.js';


/** `enclave groups add <name> --chat <id>`: a new group folder from the templates. */
export async function runGroupsAdd(name: string, chat: string): Promise<void> {
  const state = openHomeState();
  try {
    const at = chat.indexOf(':');
    const owner = at > 0 ? groupForChat(state.config, chat.slice(0, at), chat.slice(at + 1)) : undefined;
    if (owner) throw new Error(`chat ${chat} is already mapped to group "${owner.name}" (see: enclave groups show ${owner.name})`);
    const dir = createGroupFiles(state.config.paths, name, chat);
    try {
      loadConfig(state.config.paths.home);
    } catch (err) {
      // Never leave a folder behind that would stop the next start.
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    state.audit.append({ kind: 'group_change', group: name, actor: 'cli', detail: { action: 'add', chat } });
    const live = await reloadRunningHost(state.config);
    out(`Created group ${name} in ${dir} for ${chat}.${live ? ' The running Enclave picked it up.' : ''}`);
  } catch (err) {
    fail(err);
  } finally {
    state.close();
  }
}

export async function runGroupsRemove(name: string): Promise<void> {
  const state = openHomeState();
  try {
    const kept = removeGroupFiles(state.config.paths, name);
    // Its memory disk moved along with the folder; unmounted here, it stays in memory.img under `kept`.
    await releaseGroupDisk({ dir: kept, memoryDir: join(kept, 'memory') });
    // Nothing of the old group may reach a new group that reuses the name: tasks, conversation, settings.
    const tasks = new TaskStore(state.db, state.audit);
    for (const task of tasks.list(name)) tasks.cancel(task.id, 'cli');
    new History(state.db).reset(name);
    state.db.prepare('DELETE FROM group_settings WHERE group_name = ?').run(name);
    state.db.prepare("UPDATE messages SET status = 'failed' WHERE group_name = ? AND status IN ('queued', 'in_turn')").run(name);
    state.audit.append({ kind: 'group_change', group: name, actor: 'cli', detail: { action: 'remove' } });
    const live = await reloadRunningHost(state.config);
    out(`Removed group ${name}; its files (memory included) were moved to ${kept}.${live ? ' The running Enclave no longer answers it.' : ''}`);
  } catch (err) {
    fail(err);
  } finally {
    state.close();
  }
}

export function runGroupsList(json: boolean): void {
  const state = openHomeState();
  const groups = [...state.config.groups.values()];
  state.close();
  if (json) return out(JSON.stringify(groups.map((g) => ({ name: g.name, chats: g.chats, model: g.model, timezone: g.timezone }))));
  if (groups.length === 0) return out('No groups yet. Add one: enclave groups add <name> --chat <channel>:<chat id>');
  for (const g of groups) out(`${g.name.padEnd(20)} ${g.model.padEnd(24)} ${g.chats.join(', ') || '(no chats)'}`);
}

export function runGroupsShow(name: string): void {
  const state = openHomeState();
  const g = state.config.groups.get(name);
  state.close();
  if (!g) fail(new Error(`there is no group named "${name}" (see: enclave groups list)`));
  const budget = Object.entries(g.budget).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  out(`Group ${g.name}`);
  out(`  folder:        ${g.dir}`);
  out(`  chats:         ${g.chats.join(', ') || '(none)'}`);
  out(`  trigger:       ${g.trigger}${g.requireTrigger ? '' : ' (not required)'}`);
  out(`  model:         ${g.model}${g.fallbacks.length ? `, fallbacks ${g.fallbacks.join(', ')}` : ''}`);
  out(`  time zone:     ${g.timezone}`);
  out(`  budget:        ${budget}; max ${g.maxOutputTokens} output tokens per call`);
  out(`  tools:         ${g.tools.join(', ')}`);
  out(`  skills:        ${g.skills.join(', ') || 'none'}`);
  out(`  web allowlist: ${g.webAllowlist.join(', ') || 'none'}`);
  out(`  senders:       ${g.allowSenders.join(', ') || 'anyone in the chat'}`);
}

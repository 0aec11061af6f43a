import { TaskStore } from '../scheduler/task-store.js';
import { GroupLifecycle } from '../services/group-lifecycle.js';
import { reloadRunningHost, withHomeState, type HomeState, type HomeStateOptions } from './home-state.js';

const CLI_ACTOR = 'cli';

function groupLifecycle(state: HomeState): GroupLifecycle {
  const { db, audit, clock, config } = state;
  return new GroupLifecycle({ db, audit, clock, config: () => config, tasks: new TaskStore(db, audit, clock), reloadHost: () => reloadRunningHost(config) });
}

/** `enclave groups add <name> --chat <id>`: a new group folder from the templates. */
export function runGroupsAdd(name: string, chat: string, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, async (state) => {
    const added = await groupLifecycle(state).add({ name, chat, actor: CLI_ACTOR, via: 'add' });
    state.print(`Created group ${name} in ${added.dir} for ${chat}.${added.hostReloaded ? ' The running Enclave picked it up.' : ''}`);
  });
}

export function runGroupsRemove(name: string, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, async (state) => {
    const removed = await groupLifecycle(state).remove({ name, actor: CLI_ACTOR });
    state.print(`Removed group ${name}; its files (memory included) were moved to ${removed.keptAt}.${removed.hostReloaded ? ' The running Enclave no longer answers it.' : ''}`);
  });
}

export function runGroupsList(json: boolean, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, ({ config, print }) => {
    const groups = [...config.groups.values()];
    if (json) return print(JSON.stringify(groups.map((g) => ({ name: g.name, chats: g.chats, model: g.model, timezone: g.timezone }))));
    if (groups.length === 0) return print('No groups yet. Add one: enclave groups add <name> --chat <channel>:<chat id>');
    for (const g of groups) print(`${g.name.padEnd(20)} ${g.model.padEnd(24)} ${g.chats.join(', ') || '(no chats)'}`);
  });
}

export function runGroupsShow(name: string, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, ({ config, print }) => {
    const g = config.groups.get(name);
    if (!g) throw new Error(`there is no group named "${name}" (see: enclave groups list)`);
    const budget = Object.entries(g.budget).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    print(`Group ${g.name}`);
    print(`  folder:        ${g.dir}`);
    print(`  chats:         ${g.chats.join(', ') || '(none)'}`);
    print(`  trigger:       ${g.trigger}${g.requireTrigger ? '' : ' (not required)'}`);
    print(`  model:         ${g.model}${g.fallbacks.length ? `, fallbacks ${g.fallbacks.join(', ')}` : ''}`);
    print(`  time zone:     ${g.timezone}`);
    print(`  budget:        ${budget}; max ${g.maxOutputTokens} output tokens per call`);
    print(`  tools:         ${g.tools.join(', ')}`);
    print(`  skills:        ${g.skills.join(', ') || 'none'}`);
    print(`  web allowlist: ${g.webAllowlist.join(', ') || 'none'}`);
    print(`  senders:       ${g.allowSenders.join(', ') || 'anyone in the chat'}`);
  });
}

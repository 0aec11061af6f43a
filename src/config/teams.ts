import { join } from 'node:path';
import { ConfigError } from './errors.js';
import type { GroupConfig } from './groups.js';
import type { EnclaveConfig } from './schema.js';
import type { GroupTeamAcl } from './team-schema.js';
import { yamlLine } from './yaml-line.js';

/** Tools that need a chat of the group's own: a worker (chats: []) has none. */
const CHAT_TOOLS = ['send_message', 'send_file', 'schedule_task', 'list_tasks', 'cancel_task'];

const NO_RIGHTS: GroupTeamAcl = { handOffTo: [], board: { read: [], write: [] }, publish: [], subscribe: [] };

/**
 * Checks the teams in enclave.yaml against the groups and each group's `team:` rights, and returns
 * the groups with their team set and their team tools enabled. Default deny: a right not written
 * is refused, and no right names a group outside the team (there is no wildcard that crosses it).
 */
export function resolveTeams(configFile: string, enclave: EnclaveConfig, groups: ReadonlyMap<string, GroupConfig>): Map<string, GroupConfig> {
  const teamOf = new Map<string, string>();
  for (const [team, t] of Object.entries(enclave.teams)) {
    t.members.forEach((member, i) => {
      const at = yamlLine(configFile, ['teams', team, 'members', i]);
      if (!groups.has(member)) {
        throw new ConfigError(configFile, at, `team "${team}": member "${member}" is not a group`, `create groups/${member}/group.yaml (\`enclave team apply\` does it) or remove "${member}" from members`);
      }
      const other = teamOf.get(member);
      if (other) throw new ConfigError(configFile, at, `group "${member}" is in two teams ("${other}" and "${team}")`, 'put each group in one team only');
      teamOf.set(member, team);
    });
  }
  const out = new Map<string, GroupConfig>();
  for (const [name, group] of groups) {
    const team = teamOf.get(name);
    const file = join(group.dir, 'group.yaml');
    if (!team) {
      if (group.teamAcl) throw new ConfigError(file, yamlLine(file, ['team']), `group "${name}" has team rights but is in no team`, 'add it to a team\'s members in enclave.yaml, or remove `team:`');
      out.set(name, group);
      continue;
    }
    const acl = group.teamAcl ?? NO_RIGHTS;
    const members = enclave.teams[team]!.members;
    acl.handOffTo.forEach((to, i) => {
      const at = yamlLine(file, ['team', 'handOffTo', i]);
      if (to === name) throw new ConfigError(file, at, `team.handOffTo names the group itself ("${to}")`, 'list other members of the team only');
      if (!members.includes(to)) {
        throw new ConfigError(file, at, `team.handOffTo: "${to}" is not a member of team "${team}"`, `list members of "${team}" only (${members.join(', ')}), or add "${to}" to the team in enclave.yaml`);
      }
    });
    out.set(name, { ...group, team: { name: team, acl }, tools: teamTools(group, acl) });
  }
  return out;
}

/** The group's tools with the team tools its rights allow; a worker loses the tools that need a chat. */
function teamTools(group: GroupConfig, acl: GroupTeamAcl): string[] {
  const tools = group.chats.length === 0 ? group.tools.filter((t) => !CHAT_TOOLS.includes(t)) : [...group.tools];
  const add = (...names: string[]) => tools.push(...names.filter((n) => !tools.includes(n)));
  add('complete_task', 'fail_task');
  if (acl.handOffTo.length) add('ask_agent', 'hand_off');
  if (acl.board.read.length || acl.board.write.length) add('board_read');
  if (acl.board.write.length) add('board_write', 'board_delete');
  if (acl.publish.length) add('publish');
  if (acl.helpers === true) add('spawn_helper');
  return tools;
}

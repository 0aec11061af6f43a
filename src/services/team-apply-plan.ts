import { isDeepStrictEqual } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { Document, isMap, isNode, parseDocument, type YAMLMap } from 'yaml';
import type { Config } from '../config/load.js';
import { groupConfigSchema } from '../config/schema.js';
import { groupTeamSchema, teamSchema } from '../config/team-schema.js';
import { yamlLine } from '../config/yaml-line.js';
import { MEMBER_ONLY_KEYS, readTeamFile, type ReadTeamFile, type TeamFileMember } from './team-file.js';

/** One file the apply writes; `before` is its text when planned (null: it must not exist yet). */
export interface PlannedWrite {
  path: string;
  text: string;
  before: string | null;
}

export type MemberAction = 'create' | 'same' | 'join' | 'joined' | 'conflict';

export interface PlannedMember {
  name: string;
  /** create: a new group; same: already there as in the file; join: an existing group gets its team rights; joined: it has them already; conflict: see the conflicts. */
  action: MemberAction;
  worker: boolean;
  model?: string;
  handOffTo: string[];
  boardRead: string[];
  boardWrite: string[];
  publish: string[];
  subscribe: string[];
  /** team.helpers: may start spawn_helper helpers. */
  helpers: boolean;
  /** A new group's reach and spend (chats and who may talk, tools, budget, web), for the plan the user approves. */
  grants?: string;
}

export interface Conflict {
  what: string;
  fix: string;
}

export interface TeamApplyPlan {
  file: string;
  team: string;
  /** new: added to enclave.yaml; same: already there with these settings. */
  teamAction: 'new' | 'same';
  entry: { members: string[] } & Record<string, unknown>;
  members: PlannedMember[];
  /** Group files first, enclave.yaml last. */
  writes: PlannedWrite[];
  /** Nothing is written while there is one. */
  conflicts: Conflict[];
  /** New group folders (removed again when the apply fails). */
  newDirs: string[];
}

/** What `enclave team apply <file>` would create and change in this home, and what stands in its way. Writes nothing. */
export function planTeamApply(config: Config, file: string): TeamApplyPlan {
  const read = readTeamFile(file);
  const { data } = read;
  const { paths, enclave } = config;
  const conflicts: Conflict[] = [];
  const writes: PlannedWrite[] = [];
  const newDirs: string[] = [];
  const members: PlannedMember[] = [];
  const rel = (p: string) => relative(paths.home, p) || p;
  const source = basename(file);

  for (const [name, m] of Object.entries(data.members)) {
    const dir = join(paths.groupsDir, name);
    const groupFile = join(dir, 'group.yaml');
    const acl = m.team ?? groupTeamSchema.parse({});
    const other = Object.entries(enclave.teams).find(([t, cfg]) => t !== data.name && cfg.members.includes(name));
    if (other) conflicts.push({ what: `group "${name}" is already in team "${other[0]}" (${rel(paths.configFile)}:${yamlLine(paths.configFile, ['teams', other[0]]) ?? '?'})`, fix: `a group is in one team only: remove "${name}" from team "${other[0]}", or rename the member in ${source}` });
    const base = { name, handOffTo: acl.handOffTo, boardRead: acl.board.read, boardWrite: acl.board.write, publish: acl.publish, subscribe: acl.subscribe, helpers: acl.helpers === true };

    if (m.existing) {
      const group = config.groups.get(name);
      if (!group) {
        conflicts.push({ what: `members.${name} is marked existing, but there is no group "${name}"`, fix: `create it first (enclave groups add ${name} --chat <channel>:<chat id>, or /register ${name} in its chat), or drop \`existing: true\` to make a new worker` });
        continue;
      }
      const current = readFileSync(groupFile, 'utf8');
      const joined = group.teamAcl !== undefined && isDeepStrictEqual(group.teamAcl, acl);
      const clash = group.teamAcl !== undefined && !joined;
      if (clash) {
        conflicts.push({ what: `${rel(groupFile)}:${yamlLine(groupFile, ['team']) ?? '?'} already has other team rights`, fix: `make its \`team:\` and members.${name}.team in ${source} the same (or remove one of them)` });
      }
      if (!group.teamAcl) writes.push({ path: groupFile, text: withTeamRights(current, read, name, data.name), before: current });
      members.push({ ...base, action: clash ? 'conflict' : joined ? 'joined' : 'join', worker: group.chats.length === 0, model: group.model });
      continue;
    }

    const groupText = newGroupYaml(read, name, data.name, source);
    const memoryFile = join(dir, 'memory', 'MEMORY.md');
    const memoryText = memoryFor(name, data.name, m.role);
    const member: PlannedMember = { ...base, action: 'create', worker: m.chats.length === 0, model: m.model, grants: grantsOf(m) };
    members.push(member);
    if (!existsSync(dir)) {
      newDirs.push(dir);
      writes.push({ path: groupFile, text: groupText, before: null }, { path: memoryFile, text: memoryText, before: null });
      for (const chat of m.chats) {
        const owner = [...config.groups.values()].find((g) => g.chats.includes(chat));
        if (owner) conflicts.push({ what: `chat ${chat} of members.${name} belongs to group "${owner.name}" already`, fix: `mark the member \`existing: true\` if "${owner.name}" is meant, or give it another chat (or \`chats: []\` for a worker)` });
      }
      continue;
    }
    member.action = 'same';
    for (const [path, want] of [[groupFile, groupText], [memoryFile, memoryText]] as const) {
      const have = existsSync(path) ? readFileSync(path, 'utf8') : null;
      if (have !== want) {
        member.action = 'conflict';
        conflicts.push({
          what: `${rel(path)} ${have === null ? 'is missing from the existing folder' : 'exists with other content'}`,
          fix: `keep it and mark members.${name} \`existing: true\` in ${source}, rename the member, or move the group away first (enclave groups remove ${name})`,
        });
      }
    }
  }

  const entry = { members: Object.keys(data.members), ...read.limits };
  const existing = enclave.teams[data.name];
  const teamAction = existing ? 'same' : 'new';
  if (existing && !isDeepStrictEqual(teamSchema.parse(entry), existing)) {
    conflicts.push({ what: `team "${data.name}" already exists in ${rel(paths.configFile)}:${yamlLine(paths.configFile, ['teams', data.name]) ?? '?'} with other settings`, fix: `remove it from enclave.yaml, or set the same members and limits in ${source}, or pick another name` });
  }
  if (!existing) {
    const before = existsSync(paths.configFile) ? readFileSync(paths.configFile, 'utf8') : '';
    writes.push({ path: paths.configFile, text: withTeam(before, data.name, entry, source), before: existsSync(paths.configFile) ? before : null });
  }
  return { file, team: data.name, teamAction, entry, members, writes, conflicts, newDirs };
}

/** The member's group.yaml: its node from the team file as written (comments kept), without the team-file-only keys. */
function newGroupYaml(read: ReadTeamFile, name: string, team: string, source: string): string {
  const node = read.memberNode(name).clone() as YAMLMap;
  for (const key of MEMBER_ONLY_KEYS) node.delete(key);
  const doc = new Document();
  if (!node.has('chats')) node.items.unshift(doc.createPair('chats', []));
  doc.contents = node;
  doc.commentBefore = ` Group "${name}" of team "${team}", made by \`enclave team apply\` from ${source}.\n Every key is documented in README.md ("group.yaml").`;
  const text = doc.toString({ lineWidth: 0 });
  // The file was validated as a member; this only guards the conversion.
  groupConfigSchema.parse(parseDocument(text).toJS());
  return text;
}

/** What a new member may reach and spend: a team file from elsewhere must not bind a chat, tools or a budget the plan does not show. */
function grantsOf(m: TeamFileMember): string {
  const chats = m.chats.length
    ? `chats ${m.chats.join(', ')} (${m.allowSenders.length ? `senders ${m.allowSenders.join(', ')}` : 'anyone in them'}${m.requireTrigger ? '' : ', no trigger needed'})`
    : 'no chat';
  const budget = m.budget ? Object.entries(m.budget).map(([k, v]) => `${k} ${String(v)}`).join(', ') : 'the default';
  return [chats, `tools ${m.tools.join(', ') || 'none'}`, `budget ${budget}`, ...(m.webAllowlist.length ? [`web ${m.webAllowlist.join(', ')}`] : []), ...(m.skills.length ? [`skills ${m.skills.join(', ')}`] : [])].join('; ');
}

function memoryFor(name: string, team: string, role: string | undefined): string {
  const intro = `# Memory of ${name}\n\nNotes the assistant keeps for this group. It reads this file at the start of every turn.\n`;
  return role ? `${intro}\n## Role in team ${team}\n\n${role}\n` : intro;
}

/** An existing group.yaml with the member's `team:` added, the user's comments and order kept. */
function withTeamRights(text: string, read: ReadTeamFile, name: string, team: string): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  const rights = read.memberNode(name).get('team', true);
  const value = isNode(rights) ? rights.clone() : doc.createNode({ handOffTo: [], board: { read: [], write: [] } });
  addKey(doc, doc.contents as YAMLMap, 'team', value, ` Rights in team "${team}" (set by \`enclave team apply\`; README "Agent teams").`);
  return doc.toString({ lineWidth: 0 });
}

/** enclave.yaml with the team added under `teams:`, everything else (comments too) as it was. */
function withTeam(text: string, team: string, entry: Record<string, unknown>, source: string): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
  const root = doc.contents as YAMLMap;
  const found: unknown = root.get('teams', true);
  let teams: YAMLMap;
  if (isMap(found)) teams = found;
  else {
    root.delete('teams');
    teams = doc.createNode({}) as YAMLMap;
    addKey(doc, root, 'teams', teams, ' Agent teams: members and how far one chain of work may go (README "Agent teams").');
  }
  addKey(doc, teams, team, doc.createNode(entry, { flow: true }), ` made by \`enclave team apply\` from ${source}`);
  return doc.toString({ lineWidth: 0 });
}

/** Adds a key at the end of a map with a comment above it. */
function addKey(doc: Document, map: YAMLMap, key: string, value: unknown, comment: string): void {
  const k = doc.createNode(key);
  k.commentBefore = comment;
  map.add(doc.createPair(k, value));
}

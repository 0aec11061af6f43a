import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type YAMLMap } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { GLOBAL_GROUP_DIR } from '../config/groups.js';
import { GROUP_NAME_RE, groupConfigSchema } from '../config/schema.js';
import { teamSchema } from '../config/team-schema.js';
import { loadYamlFile } from '../config/yaml-file.js';
import { yamlLine } from '../config/yaml-line.js';

/** Folder names under groups/ that are not groups. */
const RESERVED = new Set([GLOBAL_GROUP_DIR, 'templates']);

/** One member: a group.yaml's keys, plus its role (written to its MEMORY.md) or `existing: true` for a group that is already there. */
const memberSchema = groupConfigSchema.extend({
  /** The group exists already (e.g. main): only its `team:` rights are set, its other settings and memory stay. */
  existing: z.boolean().default(false),
  /** The agent's role and instructions: the start of its memory/MEMORY.md. */
  role: z.string().trim().min(1).max(16_000).optional(),
});

/** A team template for `enclave team apply`: the enclave.yaml entry's limits, and each member group. */
export const teamFileSchema = teamSchema.omit({ members: true }).extend({
  name: z.string().regex(GROUP_NAME_RE, 'team names use lowercase letters, digits, - and _'),
  description: z.string().max(2000).optional(),
  members: z
    .record(z.string().regex(GROUP_NAME_RE, 'member names are group folder names: lowercase letters, digits, - and _'), memberSchema)
    .refine((m) => Object.keys(m).length > 0, 'a team needs at least one member'),
});

export type TeamFile = z.infer<typeof teamFileSchema>;
export type TeamFileMember = z.infer<typeof memberSchema>;

/** The keys of a member that are a group.yaml's (everything but `existing` and `role`). */
export const MEMBER_ONLY_KEYS = ['existing', 'role'] as const;

export interface ReadTeamFile {
  file: string;
  data: TeamFile;
  /** The limits as written (defaults left out, so enclave.yaml keeps following them). */
  limits: Record<string, unknown>;
  /** Each member's node as written, comments and all. */
  memberNode(name: string): YAMLMap;
  line(path: readonly (string | number)[]): number | undefined;
}

/** Reads and checks a team file; every problem is a ConfigError naming its line and the fix. */
export function readTeamFile(file: string): ReadTeamFile {
  const data = loadYamlFile(file, teamFileSchema, 'team file');
  const counter = new LineCounter();
  const doc: Document = parseDocument(readFileSync(file, 'utf8'), { lineCounter: counter });
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  const limitKeys = Object.keys(teamSchema.shape).filter((k) => k !== 'members');
  const limits = Object.fromEntries(limitKeys.filter((k) => raw[k] !== undefined).map((k) => [k, data[k as keyof TeamFile]]));
  const line = (path: readonly (string | number)[]) => yamlLine(file, path);
  const members = doc.get('members', true);
  /** The line of a member's name (yamlLine gives its value's, the line after). */
  const memberLine = (name: string) => {
    const key = isMap(members) ? members.items.find((p) => isScalar(p.key) && p.key.value === name)?.key : undefined;
    return isScalar(key) && key.range ? counter.linePos(key.range[0]).line : line(['members', name]);
  };
  const fail = (path: (string | number)[], problem: string, fix: string): never => {
    throw new ConfigError(file, line(path), problem, fix);
  };
  const names = Object.keys(data.members);
  for (const [name, m] of Object.entries(data.members)) {
    if (RESERVED.has(name)) throw new ConfigError(file, memberLine(name), `"${name}" cannot be a member name (it is a reserved folder under groups/)`, 'pick another name');
    if (m.existing) {
      const extra = Object.keys((raw.members as Record<string, Record<string, unknown>>)[name] ?? {}).filter((k) => !['existing', 'team'].includes(k));
      if (extra.length) {
        fail(['members', name, extra[0]!], `members.${name} is an existing group, so ${extra.join(', ')} cannot be set here`, `edit groups/${name}/group.yaml for those, or remove them from the team file (an existing group keeps its settings and memory)`);
      }
    }
    m.team?.handOffTo.forEach((to, i) => {
      const at = ['members', name, 'team', 'handOffTo', i];
      if (to === name) fail(at, `members.${name}.team.handOffTo names the member itself`, 'list other members only');
      if (!names.includes(to)) fail(at, `members.${name}.team.handOffTo: "${to}" is not a member of this team`, `list members only (${names.join(', ')}), or add "${to}" under members`);
    });
  }
  const seen = new Map<string, string>();
  for (const [name, m] of Object.entries(data.members)) {
    m.chats.forEach((chat, i) => {
      const other = seen.get(chat);
      if (other) fail(['members', name, 'chats', i], `chat ${chat} is given to both "${other}" and "${name}"`, 'map each chat to one member only');
      seen.set(chat, name);
    });
  }
  return {
    file,
    data,
    limits,
    memberNode: (name) => {
      const node = doc.getIn(['members', name], true);
      if (!isMap(node)) throw new ConfigError(file, line(['members', name]), `members.${name} is not a map`, 'write the member\'s settings under its name');
      return node as YAMLMap;
    },
    line,
  };
}

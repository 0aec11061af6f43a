import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './errors.js';
import { GROUP_NAME_RE, groupConfigSchema, type BudgetLimits, type EnclaveConfig } from './schema.js';
import { loadYamlFile } from './yaml-file.js';
import { loadGroupSkills, type LoadedSkill } from './skills.js';
import type { GroupTeamAcl } from './team-schema.js';

/** A group as the host uses it: file config merged with enclave.yaml defaults. */
export interface GroupConfig {
  name: string;
  dir: string;
  /**
   * Device and inode of the folder when it was read: a group removed and re-created under the same
   * name between two reads has another. Absent in configs built by hand.
   */
  folderId?: string;
  memoryDir: string;
  chats: string[];
  trigger: string;
  requireTrigger: boolean;
  model: string;
  fallbacks: string[];
  /** model first, then fallbacks: the only models the group's agent may ask for. */
  allowedModels: string[];
  timezone: string;
  maxSteps: number;
  allowSenders: string[];
  tools: string[];
  skills: string[];
  /** The enabled skills, read and checked at load. */
  skillFiles: LoadedSkill[];
  webAllowlist: string[];
  /** The group's own limits, or enclave.yaml budgets.group. */
  budget: BudgetLimits;
  /** max_tokens the proxy sets on each call when the agent sets none, and the most it may ask for. */
  maxOutputTokens: number;
  /** Overrides of the host-tool call limits (src/tools/rate-limit.ts has the defaults). */
  toolLimits?: { callsPerTurn?: number; callsPerMinute?: number; messagesPerTurn?: number };
  /** The team this group belongs to and its rights there (set by resolveTeams); absent = no team. */
  team?: { name: string; acl: GroupTeamAcl };
  /** The group.yaml `team:` as written, before resolveTeams checks it. */
  teamAcl?: GroupTeamAcl;
}

export const GLOBAL_GROUP_DIR = 'global';

export function hostTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function loadGroups(groupsDir: string, cfg: EnclaveConfig, defaultModel: string, skillRoots: readonly string[] = []): Map<string, GroupConfig> {
  const groups = new Map<string, GroupConfig>();
  if (!existsSync(groupsDir)) return groups;
  const owners = new Map<string, string>();
  for (const entry of readdirSync(groupsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === GLOBAL_GROUP_DIR) continue;
    const dir = join(groupsDir, entry.name);
    const file = join(dir, 'group.yaml');
    if (!existsSync(file)) continue;
    if (!GROUP_NAME_RE.test(entry.name)) {
      throw new ConfigError(file, undefined, `the folder name "${entry.name}" is not a valid group name`, 'rename the folder to lowercase letters, digits, - or _');
    }
    const raw = loadYamlFile(file, groupConfigSchema, 'group config');
    const timezone = raw.timezone ?? hostTimezone();
    if (!isValidTimezone(timezone)) {
      throw new ConfigError(file, undefined, `timezone "${timezone}" is not an IANA time zone`, 'use a name such as Europe/Berlin or America/New_York');
    }
    for (const chat of raw.chats) {
      const other = owners.get(chat);
      if (other) throw new ConfigError(file, undefined, `chat ${chat} is already mapped to group "${other}"`, 'map each chat to one group only');
      owners.set(chat, entry.name);
    }
    const model = raw.model ?? defaultModel;
    const folder = statSync(dir);
    groups.set(entry.name, {
      name: entry.name,
      dir,
      folderId: `${folder.dev}:${folder.ino}`,
      memoryDir: join(dir, 'memory'),
      chats: raw.chats,
      trigger: raw.trigger ?? cfg.defaults.trigger,
      requireTrigger: raw.requireTrigger,
      model,
      fallbacks: raw.fallbacks,
      allowedModels: [...new Set([model, ...raw.fallbacks])],
      timezone,
      maxSteps: raw.maxSteps ?? cfg.defaults.maxSteps,
      allowSenders: raw.allowSenders,
      tools: raw.tools,
      skills: raw.skills,
      skillFiles: loadGroupSkills(skillRoots, file, raw.skills, raw.tools),
      webAllowlist: raw.webAllowlist.map((d) => d.toLowerCase()),
      budget: raw.budget ?? cfg.budgets.group,
      maxOutputTokens: raw.maxOutputTokens ?? cfg.budgets.maxOutputTokens,
      toolLimits: raw.toolLimits,
      teamAcl: raw.team,
    });
  }
  return groups;
}

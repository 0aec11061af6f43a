import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { HOST_TOOLS } from './schema.js';

// SKILL.md files are configuration: they are read and checked with the group.yaml that enables them.

/** Tools every agent has inside its container; a skill may name them without the group enabling anything. */
export const CONTAINER_TOOLS = ['read_file', 'write_file', 'list_files', 'shell'] as const;

export interface LoadedSkill {
  name: string;
  description: string;
  tools: string[];
  /** Host folder mounted read-only at /workspace/skills/<name>. */
  dir: string;
}

const frontmatterSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().min(1).max(1000),
    tools: z.array(z.string()).default([]),
  })
  .strict();

const FRONTMATTER_RE = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/;

/** Reads skills/<name>/SKILL.md's YAML frontmatter from the first root that has the skill. */
export function loadSkill(roots: readonly string[], name: string): LoadedSkill {
  const dir = roots.map((root) => join(root, name)).find((d) => existsSync(join(d, 'SKILL.md')));
  if (!dir) throw new Error(`skill "${name}" was not found (looked for ${roots.map((r) => join(r, name, 'SKILL.md')).join(' and ')})`);
  const file = join(dir, 'SKILL.md');
  const match = FRONTMATTER_RE.exec(readFileSync(file, 'utf8'));
  if (!match) throw new ConfigError(file, 1, 'SKILL.md does not start with YAML frontmatter', 'begin the file with ---, then name: and description:, then ---');
  let data: unknown;
  try {
    data = parse(match[1]!);
  } catch (err) {
    throw new ConfigError(file, undefined, `invalid frontmatter YAML: ${(err as Error).message.split('\n')[0]}`, 'correct the YAML between the --- lines');
  }
  const parsed = frontmatterSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(file, undefined, `frontmatter ${issue.path.join('.') || ''}: ${issue.message}`, 'give name, description and optionally tools (a list of tool names)');
  }
  if (parsed.data.name !== name) throw new ConfigError(file, undefined, `frontmatter name "${parsed.data.name}" differs from the folder name "${name}"`, `set name: ${name}`);
  const known = new Set<string>([...CONTAINER_TOOLS, ...HOST_TOOLS]);
  const unknown = parsed.data.tools.find((t) => !known.has(t));
  if (unknown) throw new ConfigError(file, undefined, `unknown tool "${unknown}"`, `use tools from: ${[...known].join(', ')}`);
  return { name, description: parsed.data.description.trim(), tools: parsed.data.tools, dir };
}

/** A group's enabled skills; a skill needing a host tool the group has not enabled is refused here. */
export function loadGroupSkills(roots: readonly string[], groupFile: string, skills: readonly string[], groupTools: readonly string[]): LoadedSkill[] {
  return skills.map((name) => {
    let skill: LoadedSkill;
    try {
      skill = loadSkill(roots, name);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(groupFile, undefined, (err as Error).message, `remove "${name}" from skills, or add skills/${name}/SKILL.md`);
    }
    const missing = skill.tools.filter((t) => (HOST_TOOLS as readonly string[]).includes(t) && !groupTools.includes(t));
    if (missing.length) {
      throw new ConfigError(groupFile, undefined, `skill "${name}" needs the tool${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this group has not enabled`, `add ${missing.join(', ')} to tools, or remove "${name}" from skills`);
    }
    return skill;
  });
}

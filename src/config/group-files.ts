import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, type HomePaths } from '../paths.js';
import { GLOBAL_GROUP_DIR } from './groups.js';
import { CHAT_REF_RE, GROUP_NAME_RE } from './schema.js';

export const TEMPLATES_DIR = 'templates';
const RESERVED = new Set([GLOBAL_GROUP_DIR, TEMPLATES_DIR]);

export class GroupFileError extends Error {}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? '');
}

/** Creates groups/<name>/ with group.yaml and memory/MEMORY.md from the shipped templates. */
export function createGroupFiles(paths: HomePaths, name: string, chatRef: string, now: number): string {
  if (!GROUP_NAME_RE.test(name) || RESERVED.has(name)) {
    throw new GroupFileError(`"${name}" cannot be a group name: use lowercase letters, digits, - and _ (not ${[...RESERVED].join(' or ')})`);
  }
  if (!CHAT_REF_RE.test(chatRef)) throw new GroupFileError(`"${chatRef}" is not a chat: write <channel>:<chat id>, e.g. telegram:-1001234`);
  const dir = join(paths.groupsDir, name);
  if (existsSync(dir)) throw new GroupFileError(`a group named "${name}" already exists; pick another name`);
  const templates = join(packageRoot(), 'groups', TEMPLATES_DIR);
  const values = { name, chat: chatRef, date: new Date(now).toISOString().slice(0, 10) };
  mkdirSync(join(dir, 'memory'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'group.yaml'), fill(readFileSync(join(templates, 'group.yaml.template'), 'utf8'), values), { flag: 'wx' });
  writeFileSync(join(dir, 'memory', 'MEMORY.md'), fill(readFileSync(join(templates, 'MEMORY.md.template'), 'utf8'), values), { flag: 'wx' });
  return dir;
}

/** Unregisters a group but keeps its files: the folder moves to groups/.removed/<name>-<time>. */
export function removeGroupFiles(paths: HomePaths, name: string, now: number): string {
  const dir = join(paths.groupsDir, name);
  if (!GROUP_NAME_RE.test(name) || RESERVED.has(name) || !existsSync(join(dir, 'group.yaml'))) {
    throw new GroupFileError(`there is no group named "${name}" (see: enclave groups list)`);
  }
  const trash = join(paths.groupsDir, '.removed');
  mkdirSync(trash, { recursive: true, mode: 0o700 });
  const target = join(trash, `${name}-${new Date(now).toISOString().replace(/[:.]/g, '-')}`);
  renameSync(dir, target);
  return target;
}

import { constants } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GLOBAL_MEMORY_DIR, MEMORY_DIR, SKILLS_DIR, type SkillSummary, type TurnRequest } from './protocol.js';

export const PROMPT_FILE_MAX_BYTES = 32 * 1024;
export const MEMORY_FILE = 'MEMORY.md';

export interface PromptPaths {
  memory: string;
  global: string;
  skills: string;
}

export const DEFAULT_PROMPT_PATHS: PromptPaths = { memory: MEMORY_DIR, global: GLOBAL_MEMORY_DIR, skills: SKILLS_DIR };

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The file's text capped at PROMPT_FILE_MAX_BYTES (with a notice), or null when it is missing. */
async function readForPrompt(path: string, followSymlink: boolean): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (followSymlink ? 0 : constants.O_NOFOLLOW));
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ELOOP') return null;
    throw err;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return null;
    const buffer = Buffer.alloc(Math.min(info.size, PROMPT_FILE_MAX_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    if (info.size <= PROMPT_FILE_MAX_BYTES) return text;
    return `${text}\n[truncated: the file is ${info.size} bytes; only the first ${PROMPT_FILE_MAX_BYTES} bytes are shown here, use read_file for more]`;
  } finally {
    await handle.close();
  }
}

async function listNames(dir: string, keep: (name: string, isDir: boolean) => boolean): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((entry) => keep(entry.name, entry.isDirectory()))
      .map((entry) => entry.name)
      .sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

async function memorySection(paths: PromptPaths): Promise<string> {
  const file = join(paths.memory, MEMORY_FILE);
  const text = await readForPrompt(file, true);
  const body = text === null || text.trim() === '' ? '(empty: nothing remembered yet)' : text;
  return `### ${file}\n${body}`;
}

async function globalSection(paths: PromptPaths): Promise<string> {
  const names = await listNames(paths.global, (name, isDir) => !isDir && name.endsWith('.md'));
  const parts: string[] = [];
  for (const name of names) {
    const file = join(paths.global, name);
    const text = await readForPrompt(file, false);
    if (text !== null) parts.push(`### ${file}\n${text}`);
  }
  return parts.length > 0 ? parts.join('\n\n') : '(none)';
}

/** Names and descriptions only: the model reads a skill's full SKILL.md when it decides to use it. */
async function skillsSection(paths: PromptPaths, skills: readonly SkillSummary[] | undefined): Promise<string> {
  const listed = skills ?? (await listNames(paths.skills, (_name, isDir) => isDir)).map((name) => ({ name, description: '' }));
  if (listed.length === 0) return '(none enabled)';
  const lines = listed.map((s) => `- ${s.name}${s.description ? `: ${s.description}` : ''} (instructions: ${join(paths.skills, s.name, 'SKILL.md')})`);
  return `Read a skill's instructions with read_file before you use it.\n${lines.join('\n')}`;
}

/** The system message for one turn: identity, host context, workspace rules and the memory files. */
export async function buildSystemPrompt(
  request: Pick<TurnRequest, 'group' | 'context'> & Partial<Pick<TurnRequest, 'assistantName' | 'skills'>>,
  paths: PromptPaths = DEFAULT_PROMPT_PATHS,
): Promise<string> {
  const [memory, global, skills] = await Promise.all([memorySection(paths), globalSection(paths), skillsSection(paths, request.skills)]);
  const memoryFile = join(paths.memory, MEMORY_FILE);
  return [
    `You are ${request.assistantName || 'Enclave'}, a helpful chat assistant for the group "${request.group}". ` +
      'You run in an isolated container with no network access; your final answer is sent to the chat. ' +
      'Answer with an empty message only if the conversation clearly needs no reply from you.',
    `## Context from the host\n${request.context.trim() === '' ? '(none)' : request.context.trim()}`,
    '## Workspace\n' +
      `- ${paths.memory} (read-write): this group's own files; the shell starts here.\n` +
      `- ${paths.global} (read-only): global memory shared by every group.\n` +
      `- ${paths.skills} (read-only): enabled skills.\n` +
      'Use read_file, write_file, list_files and shell to work with them. Tools marked "performed by the host" (send_message, tasks, web_fetch) are checked by the host for this group only.',
    '## Memory\n' +
      `You may edit ${memoryFile} with write_file to remember things across conversations ` +
      '(facts about the group, preferences, ongoing tasks). Keep it short and organised; rewrite it rather than let it grow. ' +
      `Its current content:\n\n${memory}`,
    `## Global memory (read-only)\n${global}`,
    `## Skills\n${skills}`,
  ].join('\n\n');
}

import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { booleanArg, defineTool, stringArg, ToolError, type Tool } from './tools.js';
import { WorkspacePaths } from './workspace-paths.js';

export const READ_MAX_BYTES = 256 * 1024;
export const WRITE_MAX_BYTES = 1024 * 1024;
export const LIST_MAX_ENTRIES = 500;

async function readCapped(realPath: string, shown: string): Promise<string> {
  const handle = await open(realPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new ToolError(`${shown} is a directory; use list_files`);
    if (!info.isFile()) throw new ToolError(`${shown} is not a regular file`);
    const buffer = Buffer.alloc(Math.min(info.size, READ_MAX_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    if (info.size <= READ_MAX_BYTES) return text;
    return `${text}\n[truncated: ${shown} is ${info.size} bytes; only the first ${READ_MAX_BYTES} bytes are shown]`;
  } finally {
    await handle.close();
  }
}

async function writeCapped(realPath: string, content: string, append: boolean): Promise<number> {
  const bytes = Buffer.from(content, 'utf8');
  if (bytes.length > WRITE_MAX_BYTES) {
    throw new ToolError(`content is ${bytes.length} bytes; the limit is ${WRITE_MAX_BYTES} bytes per write`);
  }
  await mkdir(dirname(realPath), { recursive: true });
  const mode = append ? constants.O_APPEND : constants.O_TRUNC;
  const handle = await open(realPath, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | mode, 0o644);
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
  return bytes.length;
}

async function describe(path: string, name: string): Promise<string> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return `link  ${name} -> ${await readlink(path)}`;
  if (info.isDirectory()) return `dir   ${name}/`;
  return `file  ${name}  (${info.size} bytes)`;
}

/** Lists dir (recursively when asked) without following symlinks, stopping at LIST_MAX_ENTRIES. */
async function listEntries(dir: string, recursive: boolean): Promise<{ lines: string[]; truncated: boolean }> {
  const lines: string[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    const prefix = pending.shift() as string;
    const entries = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (lines.length >= LIST_MAX_ENTRIES) return { lines, truncated: true };
      const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      lines.push(await describe(join(dir, name), name));
      if (recursive && entry.isDirectory()) pending.push(name);
    }
  }
  return { lines, truncated: false };
}

export function workspaceTools(paths: WorkspacePaths): Tool[] {
  const { root, memory } = paths.layout;
  const pathHelp = `Relative paths are relative to ${memory}; absolute paths must be inside ${root}.`;

  const readFile = defineTool(
    'read_file',
    `Read a text file from the workspace (at most ${READ_MAX_BYTES} bytes are returned). ${pathHelp}`,
    {
      type: 'object',
      properties: { path: { type: 'string', description: 'File to read, e.g. MEMORY.md or /workspace/global/notes.md' } },
      required: ['path'],
      additionalProperties: false,
    },
    async (args) => {
      const shown = stringArg(args, 'path');
      return readCapped(await paths.forRead(shown), shown);
    },
  );

  const writeFile = defineTool(
    'write_file',
    `Create or overwrite a text file (at most ${WRITE_MAX_BYTES} bytes). Only files under ${memory} can be written; ` +
      `missing parent directories are created. ${pathHelp}`,
    {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'File to write, e.g. MEMORY.md or notes/todo.md' },
        content: { type: 'string', description: 'The full new content of the file' },
        append: { type: 'boolean', description: 'Append to the file instead of replacing it (default false)' },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
    async (args) => {
      const shown = stringArg(args, 'path');
      const content = stringArg(args, 'content');
      const append = booleanArg(args, 'append', false);
      const real = await paths.forWrite(shown);
      const written = await writeCapped(real, content, append);
      return `${append ? 'appended' : 'wrote'} ${written} bytes to ${shown}`;
    },
  );

  const listFiles = defineTool(
    'list_files',
    `List a workspace directory (default ${root}). Symbolic links are shown, not followed. ${pathHelp}`,
    {
      type: 'object',
      properties: {
        path: { type: 'string', description: `Directory to list (default ${root})` },
        recursive: { type: 'boolean', description: `List subdirectories too (at most ${LIST_MAX_ENTRIES} entries)` },
      },
      additionalProperties: false,
    },
    async (args) => {
      const shown = stringArg(args, 'path', root);
      const real = await paths.forRead(shown);
      if (!(await stat(real)).isDirectory()) throw new ToolError(`${shown} is not a directory; use read_file`);
      const { lines, truncated } = await listEntries(real, booleanArg(args, 'recursive', false));
      if (lines.length === 0) return `${shown} is empty`;
      const notice = truncated ? `\n[truncated: only the first ${LIST_MAX_ENTRIES} entries are shown]` : '';
      return `${lines.join('\n')}${notice}`;
    },
  );

  return [readFile, writeFile, listFiles];
}

import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MEMORY_DIR, WORKSPACE_DIR } from './protocol.js';
import { ToolError } from './tools.js';

export interface WorkspaceLayout {
  /** Everything the file tools may read. */
  root: string;
  /** The only writable part of root; relative paths are resolved against it. */
  memory: string;
}

export const DEFAULT_LAYOUT: WorkspaceLayout = { root: WORKSPACE_DIR, memory: MEMORY_DIR };

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Maps tool paths to real paths, refusing anything that leaves the workspace by `..` or a symlink. */
export class WorkspacePaths {
  constructor(readonly layout: WorkspaceLayout = DEFAULT_LAYOUT) {}

  /** The lexical absolute path, checked against the workspace before any symlink is followed. */
  lexical(path: string): string {
    if (path.includes('\0')) throw new ToolError('path contains a NUL byte');
    const abs = resolve(this.layout.memory, path);
    if (!isInside(abs, this.layout.root)) {
      throw new ToolError(`refused: ${path} is outside ${this.layout.root}`);
    }
    return abs;
  }

  /** The real path of an existing file or directory inside the workspace. */
  async forRead(path: string): Promise<string> {
    const abs = this.lexical(path);
    let real: string;
    try {
      real = await realpath(abs);
    } catch (err) {
      if (isNotFound(err)) throw new ToolError(`no such file or directory: ${path}`);
      throw err;
    }
    if (!isInside(real, await realpath(this.layout.root))) {
      throw new ToolError(`refused: ${path} is a symbolic link that points outside ${this.layout.root}`);
    }
    return real;
  }

  /** The real path to write, which may not exist yet; only the memory directory is writable. */
  async forWrite(path: string): Promise<string> {
    const abs = this.lexical(path);
    const real = await this.realTarget(abs, path);
    const realMemory = await realpath(this.layout.memory);
    if (isInside(real, realMemory)) {
      if (real === realMemory) throw new ToolError(`refused: ${path} is the memory directory itself, not a file`);
      return real;
    }
    if (isInside(real, await realpath(this.layout.root))) {
      throw new ToolError(
        `refused: ${path} is read-only. Only ${this.layout.memory} is writable; the global memory and skills are read-only.`,
      );
    }
    throw new ToolError(`refused: ${path} is a symbolic link that points outside ${this.layout.root}`);
  }

  /** Follows every existing component of abs; the missing tail is appended to the real ancestor. */
  private async realTarget(abs: string, shown: string): Promise<string> {
    let existing = abs;
    const missing: string[] = [];
    for (;;) {
      try {
        await lstat(existing);
        break;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        const parent = dirname(existing);
        if (parent === existing) throw err;
        missing.unshift(existing.slice(parent.length).replace(/^[/\\]/, ''));
        existing = parent;
      }
    }
    try {
      return join(await realpath(existing), ...missing);
    } catch (err) {
      if (isNotFound(err)) throw new ToolError(`refused: ${shown} goes through a symbolic link whose target does not exist`);
      throw err;
    }
  }
}

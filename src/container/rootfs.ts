/**
 * The offline build context of the agent image: which host files go where (planContext), its
 * content hash (hashContext) and writing it to a directory (writeContext). Nothing is downloaded.
 */
import { execFile } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, chmod, copyFile, mkdir, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** A uid no host account has: files the agent leaves behind give nobody on the host anything. */
export const AGENT_UID = 2_000_100;
export const AGENT_GID = 2_000_100;

export type ContextEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; source: string; mode: number }
  | { kind: 'data'; path: string; data: string; mode: number }
  | { kind: 'symlink'; path: string; target: string };

/** The image's shell and basic tools: a busybox, or else the host's own binaries. */
export type ShellSource = { kind: 'busybox'; path: string } | { kind: 'host'; tools: { name: string; path: string }[] };

export type ShellChoice = 'auto' | 'busybox' | 'host';

export interface ContextSources {
  node: string;
  shell: ShellSource;
  /** dist/container/agent: the compiled runner. */
  runnerDir: string;
  openaiDir: string;
  dockerfile: string;
}

export const BUSYBOX_APPLETS = [
  'sh', 'ls', 'cat', 'echo', 'mkdir', 'rm', 'cp', 'mv', 'grep', 'sed', 'head', 'tail', 'wc', 'sort', 'tr',
  'find', 'env', 'date', 'sleep', 'touch', 'id', 'pwd', 'uniq', 'cut', 'xargs', 'awk', 'diff', 'basename',
  'dirname', 'printf', 'test', '[', 'true', 'false', 'du', 'stat', 'ln', 'chmod', 'tee', 'expr', 'seq', 'which',
];

const EMPTY_DIRS = ['tmp', 'workspace', 'workspace/memory', 'workspace/global', 'workspace/skills', 'run', 'run/enclave'];

const PASSWD = `root:x:0:0:root:/root:/bin/sh\nagent:x:${AGENT_UID}:${AGENT_GID}:Enclave agent:/tmp:/bin/sh\n`;
const GROUP = `root:x:0:\nagent:x:${AGENT_GID}:\n`;

const execFileAsync = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && (await exists(join(dir, name)))) return join(dir, name);
  }
  return null;
}

async function findOpenaiDir(): Promise<string> {
  let dir = dirname(createRequire(import.meta.url).resolve('openai'));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (await exists(manifest)) {
      const { name } = JSON.parse(await readFile(manifest, 'utf8')) as { name?: string };
      if (name === 'openai') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the openai package directory');
    dir = parent;
  }
}

async function locateShell(choice: ShellChoice): Promise<ShellSource> {
  if (choice !== 'host') {
    const busybox = (await exists('/bin/busybox')) ? '/bin/busybox' : await findOnPath('busybox');
    if (busybox !== null) return { kind: 'busybox', path: await realpath(busybox) };
    if (choice === 'busybox') throw new Error('busybox not found (looked at /bin/busybox and on PATH); install it (e.g. apt-get install busybox-static)');
  }
  const tools: { name: string; path: string }[] = [];
  for (const name of BUSYBOX_APPLETS) {
    const found = name === 'sh' ? '/bin/sh' : await findOnPath(name);
    if (found !== null && (await exists(found))) tools.push({ name, path: await realpath(found) });
  }
  if (!tools.some((t) => t.name === 'sh')) throw new Error('neither busybox nor /bin/sh was found on this host; install busybox (apt-get install busybox-static)');
  return { kind: 'host', tools };
}

/** The host files the image is made of. `shell`: busybox when there is one (auto), or the host's tools. */
export async function locateSources(shell: ShellChoice = 'auto'): Promise<ContextSources> {
  const runnerDir = fileURLToPath(new URL('../../container/agent/', import.meta.url));
  if (!(await exists(join(runnerDir, 'runner.js')))) {
    throw new Error(`the compiled agent runner is missing (${join(runnerDir, 'runner.js')}); run "npm run build" first`);
  }
  const dockerfile = fileURLToPath(new URL('../../../container/Dockerfile', import.meta.url));
  if (!(await exists(dockerfile))) throw new Error(`the agent Dockerfile is missing (${dockerfile})`);
  return { node: await realpath(process.execPath), shell: await locateShell(shell), runnerDir, openaiDir: await findOpenaiDir(), dockerfile };
}

/** Absolute paths of the shared libraries (and the loader) a dynamic executable needs; [] when static. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ldd', [binary]));
  } catch (err) {
    const output = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`ldd is not installed; cannot list the libraries ${binary} needs`, { cause: err });
    throw new Error(`ldd ${binary} failed: ${output.trim() || String(err)}`, { cause: err });
  }
  if (/statically linked/.test(stdout)) return [];
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    if (/=>\s*not found/.test(line)) throw new Error(`${binary} needs a library that is missing on this host: ${line.trim()}`);
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1]) libs.push(match[1]);
  }
  return libs;
}

async function* walkFiles(dir: string, skip: (rel: string) => boolean, base = dir): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (skip(relative(base, full))) continue;
    if (entry.isDirectory()) yield* walkFiles(full, skip, base);
    else if (entry.isFile()) yield full;
  }
}

function skipInOpenai(rel: string): boolean {
  return rel === 'src' || rel === 'CHANGELOG.md' || rel === 'README.md' || /\.(map|d\.ts|d\.mts|d\.cts)$/.test(rel);
}

/** Every entry of the build context, sorted by path; rootfs paths start with `rootfs/`. */
export async function planContext(sources: ContextSources): Promise<ContextEntry[]> {
  const entries = new Map<string, ContextEntry>();
  const add = (entry: ContextEntry): void => {
    entries.set(entry.path, entry);
  };
  const root = (path: string): string => join('rootfs', path.replace(/^\/+/, ''));

  add({ kind: 'file', path: 'Dockerfile', source: sources.dockerfile, mode: 0o644 });
  add({ kind: 'file', path: root('/usr/bin/node'), source: sources.node, mode: 0o755 });
  const binaries = sources.shell.kind === 'busybox' ? [sources.shell.path] : sources.shell.tools.map((t) => t.path);
  const libs = [...(await sharedLibraries(sources.node))];
  for (const binary of binaries) libs.push(...(await sharedLibraries(binary)));
  for (const lib of libs) add({ kind: 'file', path: root(lib), source: await realpath(lib), mode: 0o755 });

  if (sources.shell.kind === 'busybox') {
    add({ kind: 'file', path: root('/bin/busybox'), source: sources.shell.path, mode: 0o755 });
    for (const applet of BUSYBOX_APPLETS) add({ kind: 'symlink', path: root(`/bin/${applet}`), target: 'busybox' });
  } else {
    for (const tool of sources.shell.tools) add({ kind: 'file', path: root(`/bin/${tool.name}`), source: tool.path, mode: 0o755 });
  }

  add({ kind: 'data', path: root('/etc/passwd'), data: PASSWD, mode: 0o644 });
  add({ kind: 'data', path: root('/etc/group'), data: GROUP, mode: 0o644 });
  for (const dir of EMPTY_DIRS) add({ kind: 'dir', path: root(dir), mode: dir === 'tmp' ? 0o1777 : 0o755 });

  add({ kind: 'data', path: root('/app/package.json'), data: '{"type":"module"}\n', mode: 0o644 });
  for (const name of (await readdir(sources.runnerDir)).filter((n) => n.endsWith('.js'))) {
    add({ kind: 'file', path: root(`/app/${name}`), source: join(sources.runnerDir, name), mode: 0o644 });
  }
  for await (const file of walkFiles(sources.openaiDir, skipInOpenai)) {
    add({ kind: 'file', path: root(`/app/node_modules/openai/${relative(sources.openaiDir, file)}`), source: file, mode: 0o644 });
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function hashFile(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** sha256 (hex) over every entry's path, kind, mode and content, plus the node version. */
export async function hashContext(entries: readonly ContextEntry[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`node ${process.version}\0`);
  for (const entry of entries) {
    hash.update(`${entry.kind}\0${entry.path}\0${'mode' in entry ? entry.mode.toString(8) : ''}\0`);
    if (entry.kind === 'file') await hashFile(hash, entry.source);
    else if (entry.kind === 'data') hash.update(entry.data);
    else if (entry.kind === 'symlink') hash.update(entry.target);
    hash.update('\0');
  }
  return hash.digest('hex');
}

export async function writeContext(entries: readonly ContextEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const target = join(dir, entry.path);
    if (entry.kind === 'dir') {
      await mkdir(target, { recursive: true });
      await chmod(target, entry.mode);
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    if (entry.kind === 'file') await copyFile(entry.source, target);
    else if (entry.kind === 'data') await writeFile(target, entry.data);
    else {
      await symlink(entry.target, target);
      continue;
    }
    await chmod(target, entry.mode);
  }
}

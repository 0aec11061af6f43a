/**
 * Builds the agent image offline (FROM scratch, from host files: see rootfs.ts) and tags it by
 * the content hash of its build context, so any change to the runner, node or busybox rebuilds it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import tar from 'tar-fs';
import { hashContext, locateSources, planContext, writeContext, type ShellChoice } from './rootfs.js';

export { AGENT_GID, AGENT_UID } from './rootfs.js';

export const AGENT_IMAGE_REPO = 'enclave-agent';

export interface EnsureImageOptions {
  onProgress?: (line: string) => void;
  /** Rebuild even when the tag already exists. */
  force?: boolean;
  /** Where the image's shell comes from; default ENCLAVE_AGENT_SHELL, else busybox when the host has one. */
  shell?: ShellChoice;
}

export interface EnsureImageResult {
  tag: string;
  built: boolean;
  seconds: number;
}

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if (statusCode(err) === 404) return false;
    throw err;
  }
}

/** Follows the build output, forwarding each line; rejects on the first error event. */
function followBuild(docker: Docker, stream: NodeJS.ReadableStream, tag: string, onProgress?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    const onEvent = (event: BuildEvent): void => {
      if (event.error !== undefined || event.errorDetail !== undefined) {
        failure ??= event.errorDetail?.message ?? event.error ?? 'unknown error';
      }
      for (const line of (event.stream ?? '').split('\n')) {
        if (/^(Step \d+\/\d+|Successfully)/.test(line)) onProgress?.(`  ${line.trimEnd()}`);
      }
    };
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        if (err) reject(new Error(`building the agent image ${tag} failed: ${err.message}`));
        else if (failure !== undefined) reject(new Error(`building the agent image ${tag} failed: ${failure}`));
        else resolve();
      },
      onEvent,
    );
  });
}

function shellFromEnv(): ShellChoice {
  const value = process.env.ENCLAVE_AGENT_SHELL ?? 'auto';
  if (value === 'auto' || value === 'busybox' || value === 'host') return value;
  throw new Error(`ENCLAVE_AGENT_SHELL must be auto, busybox or host, not "${value}"`);
}

/** Builds the image from a written build context directory. */
export async function buildFromContext(docker: Docker, dir: string, tag: string, options: EnsureImageOptions): Promise<void> {
  const { onProgress } = options;
  const context = tar.pack(dir, { umask: 0, dmode: 0o755, fmode: 0o444 });
  const stream = await docker.buildImage(context, { t: tag, rm: true, forcerm: true, nocache: options.force === true });
  await followBuild(docker, stream, tag, onProgress);
  if (!(await imageExists(docker, tag))) throw new Error(`the build finished but the image ${tag} does not exist`);
}

async function removeQuietly(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).remove();
    return true;
  } catch {
    return false; // in use by a container, or already gone
  }
}

/**
 * Best effort: untags older enclave-agent images and removes untagged agent images (left by a
 * concurrent build of the same tag). Docker refuses, and we ignore, those a container still uses.
 */
async function removeOldImages(docker: Docker, keep: string, onProgress?: (line: string) => void): Promise<void> {
  try {
    const tagged = await docker.listImages({ filters: { reference: [AGENT_IMAGE_REPO] } });
    const old = tagged.flatMap((image) => image.RepoTags ?? []).filter((t) => t.startsWith(`${AGENT_IMAGE_REPO}:`) && t !== keep);
    for (const tag of old) {
      if (await removeQuietly(docker, tag)) onProgress?.(`removed old agent image ${tag}`);
    }
    const dangling = await docker.listImages({ filters: { dangling: ['true'], label: ['enclave.agent=1'] } });
    for (const image of dangling) await removeQuietly(docker, image.Id);
  } catch {
    // listing failed: nothing to clean up this time
  }
}

async function ensure(docker: Docker, options: EnsureImageOptions): Promise<EnsureImageResult> {
  const started = Date.now();
  const seconds = (): number => Math.round((Date.now() - started) / 100) / 10;
  const entries = await planContext(await locateSources(options.shell ?? shellFromEnv()));
  const tag = await tagOf(entries);
  if (!options.force && (await imageExists(docker, tag))) return { tag, built: false, seconds: seconds() };

  options.onProgress?.(`building agent image ${tag} (offline, FROM scratch)`);
  const dir = await mkdtemp(join(tmpdir(), 'enclave-agent-context-'));
  try {
    await writeContext(entries, dir);
    await buildFromContext(docker, dir, tag, options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await removeOldImages(docker, tag, options.onProgress);
  return { tag, built: true, seconds: seconds() };
}

async function tagOf(entries: Awaited<ReturnType<typeof planContext>>): Promise<string> {
  return `${AGENT_IMAGE_REPO}:${(await hashContext(entries)).slice(0, 12)}`;
}

/** The tag the current sources would build: an image with another tag is out of date (`enclave doctor`). */
export async function expectedAgentImageTag(shell: ShellChoice = shellFromEnv()): Promise<string> {
  return tagOf(await planContext(await locateSources(shell)));
}

const inFlight = new Map<Docker, Promise<EnsureImageResult>>();

/** Returns the tag of an up-to-date agent image, building it first when it is missing (or when forced). */
export function ensureAgentImage(docker: Docker, options: EnsureImageOptions = {}): Promise<EnsureImageResult> {
  const running = inFlight.get(docker);
  if (running && !options.force) return running;
  const promise = ensure(docker, options).finally(() => {
    if (inFlight.get(docker) === promise) inFlight.delete(docker);
  });
  inFlight.set(docker, promise);
  return promise;
}

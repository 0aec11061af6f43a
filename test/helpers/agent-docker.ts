/** Docker helpers shared by the agent image and runner tests (no test in this file). */
import type { TestContext } from 'node:test';
import Docker from 'dockerode';
import { AGENT_GID, AGENT_UID } from '../../src/container/rootfs.js';
import { dockerSkipReason } from './docker.js';

export const TEST_LABEL = 'enclave.test';

/** The hardened settings every agent container gets (the host adds limits and mounts). */
export const HARDENED: Docker.HostConfig = {
  NetworkMode: 'none',
  CapDrop: ['ALL'],
  SecurityOpt: ['no-new-privileges'],
  ReadonlyRootfs: true,
  Tmpfs: { '/tmp': 'rw,nosuid,size=64m' },
  Memory: 512 * 1024 * 1024,
  PidsLimit: 128,
};

/** A reachable Docker, or null after skipping the test loudly; under CI an unreachable Docker fails the test. */
export async function dockerOrSkip(t: TestContext): Promise<Docker | null> {
  const reason = await dockerSkipReason();
  if (reason) {
    t.skip(reason);
    return null;
  }
  return new Docker();
}

/** Splits Docker's multiplexed log stream (8-byte frame headers) into stdout and stderr. */
export function demux(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    const frame = buffer.subarray(offset + 8, offset + 8 + size);
    (buffer[offset] === 2 ? err : out).push(frame);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export async function containerLogs(container: Docker.Container): Promise<{ stdout: string; stderr: string }> {
  const raw = await container.logs({ stdout: true, stderr: true, follow: false });
  return demux(Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a one-shot command in a hardened container from image and removes the container. */
export async function runOnce(
  docker: Docker,
  image: string,
  command: { entrypoint: string[]; cmd?: string[]; workingDir?: string; hostConfig?: Docker.HostConfig },
): Promise<RunResult> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: command.entrypoint,
    Cmd: command.cmd ?? [],
    ...(command.workingDir ? { WorkingDir: command.workingDir } : {}),
    User: `${AGENT_UID}:${AGENT_GID}`,
    Labels: { [TEST_LABEL]: '1' },
    HostConfig: { ...HARDENED, ...command.hostConfig },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return { exitCode: StatusCode, ...(await containerLogs(container)) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

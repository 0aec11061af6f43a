import type { ContainerCreateOptions } from 'dockerode';
import { AGENT_SOCKET_DIR, GLOBAL_MEMORY_DIR, INBOX_DIR, MEMORY_DIR, SKILLS_DIR } from '../../container/agent/protocol.js';
import type { ContainerConfig } from '../config/schema.js';

export const LABEL_APP = 'enclave.app';
export const LABEL_HOME = 'enclave.home';
export const LABEL_GROUP = 'enclave.group';

export interface AgentContainerInput {
  group: string;
  image: string;
  /** Short hash of ENCLAVE_HOME: containers of other instances are never touched. */
  homeId: string;
  uid: number;
  gid: number;
  memoryDir: string;
  globalMemoryDir: string;
  socketDir: string;
  /** Files people sent, staged by the host (groups/<name>/inbox): read-only, apart from the memory folder. */
  inboxDir: string;
  /** Enabled skills: each folder is mounted read-only at SKILLS_DIR/<name>. */
  skills: ReadonlyArray<{ name: string; dir: string }>;
  limits: ContainerConfig;
}

export function containerName(homeId: string, group: string): string {
  return `enclave-${homeId}-${group}`;
}

/**
 * Every agent container is created from this and nothing else (DESIGN.md invariant 6):
 * no network, read-only root, no capabilities, no privilege gain, bounded memory/CPU/pids,
 * and only these mounts: the group's memory (rw), global memory, the socket, the group's inbox of
 * received files and enabled skills (ro).
 */
export function agentContainerSpec(input: AgentContainerInput): ContainerCreateOptions {
  return {
    name: containerName(input.homeId, input.group),
    Image: input.image,
    User: `${input.uid}:${input.gid}`,
    Env: [`ENCLAVE_GROUP=${input.group}`, 'HOME=/tmp', 'PATH=/usr/bin:/bin'],
    WorkingDir: MEMORY_DIR,
    Labels: { [LABEL_APP]: 'agent', [LABEL_HOME]: input.homeId, [LABEL_GROUP]: input.group },
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Memory: input.limits.memoryMb * 1024 * 1024,
      MemorySwap: input.limits.memoryMb * 1024 * 1024,
      NanoCpus: Math.round(input.limits.cpus * 1e9),
      PidsLimit: input.limits.pidsLimit,
      IpcMode: 'private',
      Init: false,
      Mounts: [
        { Type: 'bind', Source: input.memoryDir, Target: MEMORY_DIR, ReadOnly: false },
        { Type: 'bind', Source: input.globalMemoryDir, Target: GLOBAL_MEMORY_DIR, ReadOnly: true },
        { Type: 'bind', Source: input.socketDir, Target: AGENT_SOCKET_DIR, ReadOnly: true },
        { Type: 'bind', Source: input.inboxDir, Target: INBOX_DIR, ReadOnly: true },
        ...input.skills.map((s) => ({ Type: 'bind' as const, Source: s.dir, Target: `${SKILLS_DIR}/${s.name}`, ReadOnly: true })),
      ],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
  };
}

import { join } from 'node:path';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import type { GroupConfig } from '../config/groups.js';
import type { ContainerConfig } from '../config/schema.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GroupSocketServer, LiveListener } from '../socket/group-socket-server.js';
import type { ContainerStateRow } from './container-state-store.js';
import { sleep } from '../time/sleep.js';
import { releaseGroupDisk } from './group-disk.js';
import { prepareScratchDir, removeLeftoverHelperDirs, removeScratchDir } from './helper-dirs.js';
import { prepareMemoryDir } from './memory-dir.js';
import { ensureInboxDir } from '../media/inbox-dir.js';
import type { AgentContainer, ContainerRuntime } from './runtime.js';

export interface ContainerManagerOptions {
  runtime: ContainerRuntime;
  image: string;
  homeId: string;
  uid: number;
  gid: number;
  globalMemoryDir: string;
  limits: ContainerConfig;
  /** The group's socket server, listening before its container starts. */
  socketServer: (group: string) => Promise<GroupSocketServer>;
  log: Logger;
  /** Told of every start, stop and crash (the host records them in SQLite). */
  onState?: (s: ContainerStateRow) => void;
  /** Base of the exponential backoff between restarts after a crash. */
  restartBackoffMs?: number;
  clock: Clock;
  /** Where spawn_helper helpers get their scratch folders (under the data folder), and the sockets' folder. */
  helperDirs?: { scratchRoot: string; runDir: string };
  /** A group's turn ended in any way (answered, failed, stopped, timed out): its helpers are stopped. */
  onTurnEnded?: (group: string, turnId: string) => void;
}

export class TurnFailedError extends Error {
  constructor(message: string, readonly attempts: number) {
    super(message);
    this.name = 'TurnFailedError';
  }
}

/** The owner stopped the turn with /stop. */
export class TurnAbortedError extends Error {
  constructor() {
    super('the turn was stopped');
    this.name = 'TurnAbortedError';
  }
}

interface LiveContainer {
  container: AgentContainer;
  startedAt: number;
  idleTimer?: NodeJS.Timeout;
}

export interface ContainerState {
  state: 'running' | 'stopped';
  id?: string;
  startedAt?: number;
  restarts: number;
}

/** One container per group: started on demand, reused while warm, stopped when idle, restarted after a crash. */
export class ContainerManager {
  private readonly live = new Map<string, LiveContainer>();
  private readonly starting = new Map<string, Promise<LiveContainer>>();
  private readonly restarts = new Map<string, number>();
  /** Removals in progress: a new container never starts while the old one may still run. */
  private readonly removing = new Map<string, Promise<void>>();
  private closed = false;
  private readonly aborts = new Map<string, () => void>();
  /** Groups whose memory disk this host mounted: unmounted at stopAll. */
  private readonly mounted = new Map<string, GroupConfig>();
  /** Running helper containers, removed at stopAll. */
  private readonly helpers = new Set<AgentContainer>();

  constructor(private readonly opts: ContainerManagerOptions) {}

  /** Removes containers a previous run of this ENCLAVE_HOME left behind. */
  async cleanupLeftovers(): Promise<number> {
    const count = await this.opts.runtime.removeLeftovers(this.opts.homeId);
    if (count) this.opts.log.info({ count }, 'removed containers left over from a previous run');
    const dirs = this.opts.helperDirs;
    const scratch = dirs ? await removeLeftoverHelperDirs(dirs.scratchRoot, dirs.runDir) : 0;
    if (scratch) this.opts.log.info({ count: scratch }, 'removed helper scratch folders left over from a previous run');
    return count;
  }

  /**
   * A fresh container for one spawn_helper helper, created by the same runtime call and options as
   * every group's (image, user, limits, no network, read-only root...), with a new scratch folder as
   * its workspace, an empty read-only folder where a group has global memory and its inbox, no skills,
   * and only its own socket. remove() takes away the container and the scratch folder.
   */
  async startHelper(name: string, socketDir: string): Promise<AgentContainer> {
    const dirs = this.opts.helperDirs;
    if (!dirs) throw new Error('helpers are not set up on this host');
    if (this.closed) throw new Error('Enclave is shutting down');
    const { uid, gid, limits } = this.opts;
    const dir = join(dirs.scratchRoot, name);
    const scratch = await prepareScratchDir(dir, { uid, gid, diskMb: limits.diskMb }).catch(async (err: Error) => {
      await removeScratchDir(dir);
      this.opts.log.error({ helper: name, err: err.message }, 'cannot prepare a helper\'s scratch folder');
      throw new Error('the helper\'s scratch folder could not be prepared (details are in the host log)', { cause: err });
    });
    let container: AgentContainer;
    try {
      container = await this.opts.runtime.start({
        group: name, image: this.opts.image, homeId: this.opts.homeId, uid, gid, limits, socketDir, skills: [],
        memoryDir: scratch.work, globalMemoryDir: scratch.empty, inboxDir: scratch.empty,
      });
    } catch (err) {
      await removeScratchDir(scratch.dir);
      this.opts.log.error({ helper: name, err: (err as Error).message }, 'cannot start a helper container');
      throw new Error('the helper\'s container could not be started (details are in the host log)', { cause: err });
    }
    const helper: AgentContainer = {
      id: container.id,
      exited: container.exited,
      remove: async () => {
        this.helpers.delete(helper);
        await container.remove();
        await removeScratchDir(scratch.dir);
      },
    };
    this.helpers.add(helper);
    if (this.closed) {
      await helper.remove();
      throw new Error('Enclave is shutting down');
    }
    return helper;
  }

  /** Helper containers running now. */
  get helperCount(): number {
    return this.helpers.size;
  }

  /**
   * Runs one turn, restarting a crashed container with backoff; throws TurnFailedError when it gives up.
   * onLive hears the answer as it is written; a restarted attempt first tells it so ('restart').
   */
  async runTurn(group: GroupConfig, request: TurnRequest, timeoutMs: number, onLive?: LiveListener): Promise<TurnResult> {
    const maxAttempts = this.opts.limits.maxRestarts + 1;
    let lastError = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.closed) throw new TurnFailedError('Enclave is shutting down', attempt);
      if (attempt > 1) onLive?.([{ kind: 'restart', reason: 'the agent restarted' }]);
      try {
        return await this.attempt(group, request, timeoutMs, onLive);
      } catch (err) {
        if (err instanceof TurnAbortedError) throw err;
        lastError = (err as Error).message;
        this.restarts.set(group.name, (this.restarts.get(group.name) ?? 0) + 1);
        this.report(group.name, 'crashed', undefined, lastError);
        this.opts.log.warn({ group: group.name, attempt, err: lastError }, 'agent container failed during a turn');
        if (attempt < maxAttempts) await sleep((this.opts.restartBackoffMs ?? 500) * 2 ** (attempt - 1));
      }
    }
    throw new TurnFailedError(lastError, maxAttempts);
  }

  /** /stop: ends the group's running turn now (its container goes with it); false when none runs. */
  abortTurn(group: string): boolean {
    const abort = this.aborts.get(group);
    abort?.();
    return abort !== undefined;
  }

  state(group: string): ContainerState {
    const live = this.live.get(group);
    return { state: live ? 'running' : 'stopped', id: live?.container.id, startedAt: live?.startedAt, restarts: this.restarts.get(group) ?? 0 };
  }

  async stop(group: string): Promise<void> {
    const live = this.live.get(group);
    if (live) await this.retire(group, live);
  }

  /** Removes the container; until it is gone no new one of the group starts (its name is still taken). */
  private async retire(group: string, live: LiveContainer): Promise<void> {
    this.live.delete(group);
    clearTimeout(live.idleTimer);
    const removal = live.container.remove();
    this.removing.set(group, removal);
    await removal;
    if (this.removing.get(group) === removal) this.removing.delete(group);
    this.report(group, 'stopped');
  }

  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all([...this.live.keys()].map((g) => this.stop(g)));
    await Promise.all([...this.helpers].map((c) => c.remove()));
    // Removals already under way (a crashed container) finish before the host closes its database.
    await Promise.all([...this.removing.values()]);
    await Promise.all([...this.mounted.values()].map((g) => releaseGroupDisk(g).catch(() => undefined)));
    this.mounted.clear();
  }

  private async attempt(group: GroupConfig, request: TurnRequest, timeoutMs: number, onLive?: LiveListener): Promise<TurnResult> {
    const live = await this.ensure(group);
    clearTimeout(live.idleTimer);
    const server = await this.opts.socketServer(group.name);
    let timer: NodeJS.Timeout | undefined;
    const crashed = live.container.exited.then((code) => {
      throw new Error(`the agent container exited with code ${code}${code === 137 ? ' (killed: out of memory or stopped)' : ''}`);
    });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the turn took longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    const aborted = new Promise<never>((_, reject) => this.aborts.set(group.name, () => reject(new TurnAbortedError())));
    try {
      return await Promise.race([server.dispatch(request, onLive), crashed, timedOut, aborted]);
    } catch (err) {
      server.abort(err as Error);
      await this.stop(group.name);
      throw err;
    } finally {
      this.aborts.delete(group.name);
      clearTimeout(timer);
      this.scheduleIdleStop(group.name);
      this.opts.onTurnEnded?.(group.name, request.turnId);
    }
  }

  private ensure(group: GroupConfig): Promise<LiveContainer> {
    const live = this.live.get(group.name);
    if (live) return Promise.resolve(live);
    let pending = this.starting.get(group.name);
    if (!pending) {
      pending = this.start(group).finally(() => this.starting.delete(group.name));
      this.starting.set(group.name, pending);
    }
    return pending;
  }

  private async start(group: GroupConfig): Promise<LiveContainer> {
    const { log } = this.opts;
    await this.removing.get(group.name);
    const server = await this.opts.socketServer(group.name);
    try {
      if ((await prepareMemoryDir(group, this.opts.uid, this.opts.gid, this.opts.limits.diskMb)) === 'image') this.mounted.set(group.name, group);
    } catch (err) {
      log.error({ group: group.name, err: (err as Error).message }, 'cannot prepare the memory folder');
      throw new Error('the group\'s memory folder could not be prepared (details are in the host log)', { cause: err });
    }
    const inboxDir = ensureInboxDir(group);
    let container: AgentContainer;
    try {
      container = await this.opts.runtime.start({
        inboxDir,
        group: group.name,
        image: this.opts.image,
        homeId: this.opts.homeId,
        uid: this.opts.uid,
        gid: this.opts.gid,
        memoryDir: group.memoryDir,
        globalMemoryDir: this.opts.globalMemoryDir,
        socketDir: join(server.socketPath, '..'),
        skills: group.skillFiles.map((s) => ({ name: s.name, dir: s.dir })),
        limits: this.opts.limits,
      });
    } catch (err) {
      log.error({ group: group.name, err: (err as Error).message }, 'cannot start the agent container');
      throw new Error('the agent container could not be started (details are in the host log)', { cause: err });
    }
    const live: LiveContainer = { container, startedAt: this.opts.clock() };
    this.live.set(group.name, live);
    this.report(group.name, 'running', container.id);
    void container.exited.then((code) => {
      if (this.live.get(group.name) === live) {
        log.warn({ group: group.name, code }, 'agent container stopped unexpectedly');
        void this.retire(group.name, live);
      }
    });
    log.info({ group: group.name, container: container.id.slice(0, 12) }, 'agent container started');
    return live;
  }

  private report(group: string, state: ContainerStateRow['state'], containerId?: string, error?: string): void {
    this.opts.onState?.({ group, state, containerId, image: this.opts.image, restarts: this.restarts.get(group) ?? 0, error });
  }

  private scheduleIdleStop(group: string): void {
    const live = this.live.get(group);
    if (!live) return;
    clearTimeout(live.idleTimer);
    live.idleTimer = setTimeout(() => {
      this.opts.log.info({ group }, 'stopping idle agent container');
      void this.stop(group);
    }, this.opts.limits.idleTimeoutSeconds * 1000);
    live.idleTimer.unref();
  }
}

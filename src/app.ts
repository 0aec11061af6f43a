import type Docker from 'dockerode';
import { join } from 'node:path';
import type { Channel } from '../channels/channel.js';
import type { ToolResponse } from '../container/agent/protocol.js';
import { LocalChannel } from '../channels/local/local-channel.js';
import { GLOBAL_GROUP_DIR } from './config/groups.js';
import { loadConfig, seedHome, type Config } from './config/load.js';
import { ContainerManager } from './container/container-manager.js';
import { ContainerStateStore } from './container/container-state-store.js';
import { AGENT_GID, AGENT_UID, ensureAgentImage } from './container/image.js';
import { Commands } from './core/commands.js';
import { GroupQueue } from './core/group-queue.js';
import { History } from './core/history.js';
import { MessageStore } from './core/message-store.js';
import { Outbox } from './core/outbox.js';
import { Router } from './core/router.js';
import { SettleWaiters } from './core/settle-waiters.js';
import { TurnExecutor } from './core/turn-executor.js';
import { openDatabase, type Db } from './db/database.js';
import { connectDocker } from './docker.js';
import type { Logger } from './logger.js';
import { InstanceLock } from './instance-lock.js';
import { homeId } from './paths.js';
import { createModelProxy } from './proxy/model-proxy.js';
import { SocketServers } from './socket/socket-servers.js';

export interface EnclaveOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Image build and start-up progress, for people watching. */
  onProgress?: (line: string) => void;
  docker?: Docker;
  restartBackoffMs?: number;
}

interface Parts {
  config: Config;
  db: Db;
  local: LocalChannel;
  channels: Map<string, Channel>;
  containers: ContainerManager;
  queue: GroupQueue;
  executor: TurnExecutor;
  outbox: Outbox;
  servers: SocketServers;
  waiters: SettleWaiters;
  lock: InstanceLock;
}

/** One running Enclave host: config, database, channels, router, queue, containers. */
export class Enclave {
  private constructor(private readonly parts: Parts) {}

  get config(): Config {
    return this.parts.config;
  }
  get db(): Db {
    return this.parts.db;
  }
  get local(): LocalChannel {
    return this.parts.local;
  }
  get containers(): ContainerManager {
    return this.parts.containers;
  }
  get queue(): GroupQueue {
    return this.parts.queue;
  }

  static async start(opts: EnclaveOptions): Promise<Enclave> {
    seedHome(opts.home);
    const config = loadConfig(opts.home, opts.env ?? process.env);
    const docker = opts.docker ?? (await connectDocker());
    const image = await ensureAgentImage(docker, { onProgress: opts.onProgress });
    if (image.built) opts.onProgress?.(`Agent image ${image.tag} built in ${image.seconds.toFixed(1)} s`);

    const lock = InstanceLock.acquire(config.paths.lockFile);
    try {
      return await Enclave.assemble(config, docker, image.tag, lock, opts);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async assemble(config: Config, docker: Docker, image: string, lock: InstanceLock, opts: EnclaveOptions): Promise<Enclave> {
    const env = opts.env ?? process.env;
    const log = opts.log;
    const db = openDatabase(config.paths.dbFile);
    const local = new LocalChannel();
    const channels = new Map<string, Channel>();
    const waiters = new SettleWaiters();
    const store = new MessageStore(db);
    const history = new History(db);
    const outbox = new Outbox(db, channels, log);
    const lastModels = new Map<string, string>();
    const containerStates = new ContainerStateStore(db);
    containerStates.markAllStopped();
    const rootless = process.getuid?.() !== 0;
    const uid = rootless ? process.getuid!() : AGENT_UID;
    const gid = rootless ? process.getgid!() : AGENT_GID;

    const servers: SocketServers = new SocketServers({
      runDir: config.paths.runDir,
      agentUid: uid,
      onModel: createModelProxy({
        groups: () => config.groups,
        providers: () => config.providers,
        secret: (name) => env[name],
        log,
        onModelUsed: (group, model) => lastModels.set(group, model),
      }),
      onSendMessage: (group, turnId, text): Promise<ToolResponse> => executor.sendFromAgent(group, turnId, text),
      log,
    });
    const containers: ContainerManager = new ContainerManager({
      docker,
      image,
      homeId: homeId(config.paths.home),
      uid,
      gid,
      globalMemoryDir: join(config.paths.groupsDir, GLOBAL_GROUP_DIR, 'memory'),
      limits: config.enclave.container,
      socketServer: (group) => servers.get(group),
      onState: (s) => containerStates.save(s),
      log,
      restartBackoffMs: opts.restartBackoffMs,
    });
    await containers.cleanupLeftovers();

    const executor: TurnExecutor = new TurnExecutor({ config: () => config, db, store, history, outbox, waiters, channels, containers, log });
    const queue: GroupQueue = new GroupQueue(
      config.enclave.maxContainers,
      async (group) => {
        await executor.run(group);
        // A group mapped to several chats answers one chat per turn: the others go next.
        if (store.hasQueued(group)) queue.enqueue(group);
      },
      (group, err) => log.error({ group, err: (err as Error).message }, 'turn crashed'),
    );
    const commands = new Commands({ config: () => config, history, store, queue, containers, channels, lastModel: (g) => lastModels.get(g) });
    const router = new Router({ config: () => config, store, outbox, queue, commands, waiters, log });

    if (config.enclave.channels.local.enabled) channels.set(local.name, local);
    for (const ch of channels.values()) await ch.connect(router.handle);
    await outbox.flush();
    for (const group of store.requeueInterrupted()) queue.enqueue(group);
    return new Enclave({ config, db, local, channels, containers, queue, executor, outbox, servers, waiters, lock });
  }

  /** Channels first (nothing new comes in), then running turns are cut off and left for the next start. */
  async stop(): Promise<void> {
    const { channels, executor, outbox, queue, containers, servers, waiters, db, lock } = this.parts;
    for (const ch of channels.values()) await ch.disconnect().catch(() => undefined);
    executor.shutdown();
    const draining = queue.stop();
    await containers.stopAll();
    await draining;
    await servers.closeAll();
    await outbox.close();
    waiters.settleAll();
    db.close();
    lock.release();
  }
}

import Docker from 'dockerode';
import { join } from 'node:path';
import type { Channel } from '../channels/channel.js';
import { LocalChannel } from '../channels/local/local-channel.js';
import { GLOBAL_GROUP_DIR } from './config/groups.js';
import { loadConfig, seedHome, type Config } from './config/load.js';
import { ContainerManager } from './container/container-manager.js';
import { AGENT_GID, AGENT_UID, ensureAgentImage } from './container/image.js';
import { openDatabase, type Db } from './db/database.js';
import { connectDocker } from './docker.js';
import { Commands } from './core/commands.js';
import { GroupQueue } from './core/group-queue.js';
import { History } from './core/history.js';
import { MessageStore } from './core/message-store.js';
import { Outbox } from './core/outbox.js';
import { Router } from './core/router.js';
import { SettleWaiters } from './core/settle-waiters.js';
import { TurnExecutor } from './core/turn-executor.js';
import type { Logger } from './logger.js';
import { homeId } from './paths.js';
import { createModelProxy } from './proxy/model-proxy.js';
import { GroupSocketServer } from './socket/group-socket-server.js';

export interface EnclaveOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Image build and start-up progress, for people watching. */
  onProgress?: (line: string) => void;
  docker?: Docker;
  restartBackoffMs?: number;
}

/** One running Enclave host: config, database, channels, router, queue, containers. */
export class Enclave {
  readonly local = new LocalChannel();
  private readonly servers = new Map<string, Promise<GroupSocketServer>>();
  private readonly lastModels = new Map<string, string>();

  private constructor(
    readonly config: Config,
    readonly db: Db,
    readonly containers: ContainerManager,
    readonly queue: GroupQueue,
    readonly channels: Map<string, Channel>,
    private readonly waiters: SettleWaiters,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(opts: EnclaveOptions): Promise<Enclave> {
    const env = opts.env ?? process.env;
    const progress = opts.onProgress ?? (() => undefined);
    seedHome(opts.home);
    const config = loadConfig(opts.home, env);
    const docker = opts.docker ?? (await connectDocker());
    const image = await ensureAgentImage(docker, { onProgress: progress });
    if (image.built) progress(`Agent image ${image.tag} built in ${image.seconds.toFixed(1)} s`);

    const db = openDatabase(config.paths.dbFile);
    const log = opts.log;
    const channels = new Map<string, Channel>();
    const waiters = new SettleWaiters();
    const store = new MessageStore(db);
    const history = new History(db);
    const outbox = new Outbox(db, channels, log);
    const rootless = process.getuid?.() !== 0;

    let app: Enclave | undefined;
    const containers = new ContainerManager({
      docker,
      image: image.tag,
      homeId: homeId(config.paths.home),
      uid: rootless ? process.getuid!() : AGENT_UID,
      gid: rootless ? process.getgid!() : AGENT_GID,
      globalMemoryDir: join(config.paths.groupsDir, GLOBAL_GROUP_DIR, 'memory'),
      limits: config.enclave.container,
      socketServer: (group) => app!.socketServer(group),
      log,
      restartBackoffMs: opts.restartBackoffMs,
    });
    await containers.cleanupLeftovers();

    const executor = new TurnExecutor({ config: () => config, db, store, history, outbox, waiters, channels, containers, log });
    const queue = new GroupQueue(config.enclave.maxContainers, (g) => executor.run(g), (g, err) =>
      log.error({ group: g, err: (err as Error).message }, 'turn crashed'),
    );
    app = new Enclave(config, db, containers, queue, channels, waiters, log, env);
    app.executor = executor;
    const commands = new Commands({
      config: () => config,
      history,
      store,
      queue,
      containers,
      channels,
      lastModel: (g) => app!.lastModels.get(g),
    });
    const router = new Router({ config: () => config, store, outbox, queue, commands, waiters, log });

    if (config.enclave.channels.local.enabled) channels.set(app.local.name, app.local);
    for (const ch of channels.values()) await ch.connect(router.handle);

    await outbox.flush();
    for (const group of store.requeueInterrupted()) queue.enqueue(group);
    return app;
  }

  private executor: TurnExecutor | undefined;

  /** The group's socket server, started on first use and kept for the life of the host. */
  socketServer(group: string): Promise<GroupSocketServer> {
    let server = this.servers.get(group);
    if (!server) {
      const proxy = createModelProxy({
        groups: () => this.config.groups,
        providers: () => this.config.providers,
        secret: (name) => this.env[name],
        log: this.log,
        onModelUsed: (g, model) => this.lastModels.set(g, model),
      });
      const path = join(this.config.paths.runDir, group, 'api.sock');
      const s = new GroupSocketServer(group, path, proxy, (g, turnId, text) => this.executor!.sendFromAgent(g, turnId, text), this.log, this.containerUid());
      server = s.listen().then(() => s);
      this.servers.set(group, server);
    }
    return server;
  }

  async stop(): Promise<void> {
    for (const ch of this.channels.values()) await ch.disconnect().catch(() => undefined);
    this.executor?.shutdown();
    const draining = this.queue.stop();
    await this.containers.stopAll();
    await draining;
    for (const s of this.servers.values()) await (await s).close();
    this.waiters.settleAll();
    this.db.close();
  }

  private containerUid(): number {
    return process.getuid?.() === 0 ? AGENT_UID : process.getuid!();
  }
}

import type Docker from 'dockerode';
import { join } from 'node:path';
import type { Channel } from '../channels/channel.js';
import { LocalChannel } from '../channels/local/local-channel.js';
import type { QrOutput } from '../channels/whatsapp/qr.js';
import type { WhatsAppSocketFactory } from '../channels/whatsapp/socket.js';
import type { ToolResponse } from '../container/agent/protocol.js';
import { PairingStore } from './access/pairing-store.js';
import { RefusalNotices } from './access/refusal-notices.js';
import { AuditLog } from './audit/audit-log.js';
import { ThrottledAudit } from './audit/throttled-audit.js';
import { platformChannels } from './channel-factory.js';
import { systemClock, type Clock } from './clock.js';
import { GLOBAL_GROUP_DIR, hostTimezone } from './config/groups.js';
import { resolveProviders } from './config/providers.js';
import { loadConfig, reloadGroups, seedHome, type Config } from './config/load.js';
import { ContainerManager } from './container/container-manager.js';
import { ContainerStateStore } from './container/container-state-store.js';
import { AGENT_GID, AGENT_UID, ensureAgentImage } from './container/image.js';
import { budgetAlerts } from './core/budget-alerts.js';
import { chatCommands } from './core/commands/chat-commands.js';
import { Commands } from './core/commands/commands.js';
import { GroupQueue } from './core/group-queue.js';
import { GroupSettings } from './core/group-settings.js';
import { History } from './core/history.js';
import { budgetLine, hostStatus } from './core/host-status.js';
import { MessageStore } from './core/message-store.js';
import { Outbox } from './core/outbox.js';
import { Router } from './core/router.js';
import { SeenChats } from './core/seen-chats.js';
import { SettleWaiters } from './core/settle-waiters.js';
import { TurnExecutor } from './core/turn-executor.js';
import { openDatabase, type Db } from './db/database.js';
import { connectDocker } from './docker.js';
import { InstanceLock } from './instance-lock.js';
import { SqliteLedger } from './ledger/ledger.js';
import { scrubSecrets, type Logger } from './logger.js';
import { homeId } from './paths.js';
import { createModelProxy } from './proxy/model-proxy.js';
import { scheduledTurnRunner } from './scheduler/scheduled-turns.js';
import { Scheduler, type SchedulerTimer } from './scheduler/scheduler.js';
import { TaskStore } from './scheduler/task-store.js';
import { TaskTools } from './scheduler/task-tools.js';
import { SocketServers } from './socket/socket-servers.js';
import { createHostToolHandler } from './tools/host-tool-handler.js';
import type { WebFetchOptions } from './tools/web-fetch.js';
import { resolveSecret, Vault } from './vault/vault.js';
import { envSecretValues, SecretValues } from './secret-values.js';

export interface EnclaveOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Image build and start-up progress, for people watching. */
  onProgress?: (line: string) => void;
  docker?: Docker;
  restartBackoffMs?: number;
  clock?: Clock;
  schedulerTimer?: SchedulerTimer;
  /** DNS and dialing for web_fetch (tests point a public test address at a local server). */
  webFetch?: WebFetchOptions;
  onWhatsAppQr?: QrOutput;
  /** Collects the host's secret values for the caller's logger, from the moment the vault opens. */
  secretValues?: SecretValues;
  /** Makes WhatsApp's socket (tests drive the adapter through a fake); default Baileys. */
  whatsappSocketFactory?: WhatsAppSocketFactory;
}

interface Parts {
  config: Config;
  db: Db;
  secrets: SecretValues;
  audit: AuditLog;
  agentAudit: ThrottledAudit;
  local: LocalChannel;
  channels: Map<string, Channel>;
  containers: ContainerManager;
  queue: GroupQueue;
  executor: TurnExecutor;
  outbox: Outbox;
  servers: SocketServers;
  waiters: SettleWaiters;
  scheduler: Scheduler;
  lock: InstanceLock;
  startedAt: number;
}

/** One running Enclave host: config, vault, database, channels, router, queue, containers, scheduler. */
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
  get audit(): AuditLog {
    return this.parts.audit;
  }
  get scheduler(): Scheduler {
    return this.parts.scheduler;
  }
  channel(name: string): Channel | undefined {
    return this.parts.channels.get(name);
  }

  /** Every secret value the host holds, for log scrubbing. */
  secretValues(): string[] {
    return this.parts.secrets.values();
  }

  /** Re-reads groups after `enclave groups add|remove`; returns the registered names. */
  reloadGroups(): string[] {
    reloadGroups(this.parts.config);
    return [...this.parts.config.groups.keys()];
  }

  status(): string {
    const { config, db, channels, containers, queue, startedAt } = this.parts;
    return hostStatus({ config: () => config, db, channels, containers, queue, startedAt });
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
    const clock = opts.clock ?? systemClock;
    const startedAt = clock();
    const cfg = () => config;
    const db = openDatabase(config.paths.dbFile);
    let vault: Vault | undefined;
    const secrets = opts.secretValues ?? new SecretValues();
    const audit = new AuditLog(db, clock, { secrets: () => secrets.values() });
    try {
      vault = Vault.open(db, { dataDir: config.paths.dataDir, env, audit });
    } catch (err) {
      db.close();
      throw err;
    }
    const secret = (name: string) => resolveSecret(name, vault, env);
    // What an agent is refused is audited with a per-group cap, so a looping agent cannot fill the disk.
    const agentAudit = new ThrottledAudit(audit, clock);
    const openVault = vault;
    secrets.add(() => openVault.values());
    secrets.add(() => openVault.keyTexts());
    secrets.add(() => envSecretValues(config, env));
    // A key stored with `enclave secrets set OPENAI_API_KEY` works like the environment variable.
    config.providers = resolveProviders(config.enclave, env, (name) => vault?.get(name) !== undefined);

    const local = new LocalChannel(clock);
    const channels = new Map<string, Channel>();
    const waiters = new SettleWaiters();
    const store = new MessageStore(db, clock);
    const history = new History(db);
    // Secret values never reach a chat, whatever a bug upstream might put into a reply.
    const outbox = new Outbox(db, channels, log, { clock }, (text) => scrubSecrets(text, secrets.values()));
    const settings = new GroupSettings(db);
    const lastModels = new Map<string, string>();
    const containerStates = new ContainerStateStore(db);
    containerStates.markAllStopped();
    const rootless = process.getuid?.() !== 0;
    const uid = rootless ? process.getuid!() : AGENT_UID;
    const gid = rootless ? process.getgid!() : AGENT_GID;

    /** A host message to the chat the group is answering now, or to its first chat. */
    const tell = (group: string, text: string): void => {
      const target = executor.currentChat(group) ?? firstChat(config, group);
      if (!target) return;
      outbox.add({ group, ...target, text, dedupeKey: `host:${group}:${clock()}:${Math.random().toString(36).slice(2)}` });
      void outbox.flushChat(target.channel, target.chatId);
    };

    const ledger = new SqliteLedger({
      db,
      groupLimits: (g) => config.groups.get(g)?.budget ?? config.enclave.budgets.group,
      globalLimits: () => config.enclave.budgets.global,
      hostTimezone: hostTimezone(),
      clock,
    });
    const closed = ledger.closeOpenReservations(startedAt);
    if (closed) log.warn({ count: closed }, 'reservations left open by the previous run were charged in full');
    const alerts = budgetAlerts({ db, config: cfg, tell, log, now: clock });

    const tasks = new TaskStore(db, audit, clock);
    const taskTools = new TaskTools({ store: tasks, clock, audit, onChange: () => scheduler.wake() });
    const servers: SocketServers = new SocketServers({
      runDir: config.paths.runDir,
      agentUid: uid,
      onModel: createModelProxy({
        groups: () => config.groups,
        providers: () => config.providers,
        globalPrices: () => config.enclave.prices,
        secret,
        ledger,
        audit: agentAudit,
        cooldownMs: config.enclave.failoverCooldownSeconds * 1000,
        clock,
        log,
        onModelUsed: (group, model) => lastModels.set(group, model),
        onBudgetRefused: alerts.onBudgetRefused,
        onSettled: alerts.onSettled,
      }),
      onSendMessage: async (group, turnId, text): Promise<ToolResponse> => {
        if (!config.groups.get(group)?.tools.includes('send_message')) {
          audit.append({ kind: 'denial', group, actor: `agent:${group}`, detail: { tool: 'send_message', reason: 'send_message is not enabled for this group' } });
          return { ok: false, error: 'send_message is not enabled for this group (tools in group.yaml)' };
        }
        return executor.sendFromAgent(group, turnId, text);
      },
      onHostTool: createHostToolHandler({ config: cfg, taskTools, turnTarget: (g, t) => executor.turnTarget(g, t), audit: agentAudit, web: opts.webFetch }),
      audit: agentAudit,
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

    const executor: TurnExecutor = new TurnExecutor({ config: cfg, db, store, history, outbox, waiters, channels, containers, settings, log });
    const queue: GroupQueue = new GroupQueue(
      config.enclave.maxContainers,
      async (group) => {
        await executor.run(group);
        // A group mapped to several chats answers one chat per turn: the others go next.
        if (store.hasQueued(group)) queue.enqueue(group);
      },
      (group, err) => log.error({ group, err: (err as Error).message }, 'turn crashed'),
    );
    let stopping = false;
    const scheduler: Scheduler = new Scheduler({
      store: tasks,
      clock,
      runTask: scheduledTurnRunner({ store, waiters, queue, stopping: () => stopping }),
      // The host re-checks at every run that the task's chat still belongs to its group.
      mayRun: (task) =>
        config.groups.get(task.group)?.chats.includes(`${task.channel}:${task.chatId}`)
          ? undefined
          : `the chat ${task.channel}:${task.chatId} no longer belongs to group ${task.group}`,
      notify: (task, text) => {
        outbox.add({ group: task.group, channel: task.channel, chatId: task.chatId, text, dedupeKey: `task:${task.id}:notice:${clock()}` });
        void outbox.flushChat(task.channel, task.chatId);
      },
      audit,
      log,
      timer: opts.schedulerTimer,
    });

    const pairings = new PairingStore(db, clock);
    const notices = new RefusalNotices(db, clock);
    const commands = new Commands(
      chatCommands({
        config: cfg, db, audit, pairings, history, store, queue, containers, channels, settings, tasks,
        lastModel: (g) => lastModels.get(g),
        budgetLine: (g) => budgetLine({ config: cfg, db }, g, clock()),
        onTasksChanged: () => scheduler.wake(),
        now: clock,
      }),
      { audit, notices },
    );
    const router = new Router({ config: cfg, store, outbox, queue, commands, waiters, pairings, notices, seenChats: new SeenChats(db), audit, log });

    if (config.enclave.channels.local.enabled) channels.set(local.name, local);
    for (const ch of platformChannels({ config, db, log, clock, secret, commands: commands.menu(), onWhatsAppQr: opts.onWhatsAppQr, whatsappSocketFactory: opts.whatsappSocketFactory })) channels.set(ch.name, ch);
    // Concurrently: a platform that is slow to answer does not hold up the others.
    await Promise.all([...channels.values()].map((ch) => ch.connect(router.handle)));
    // Replies left undelivered by the last run go out in the background, each chat on its own.
    void outbox.flush();
    for (const group of store.requeueInterrupted()) queue.enqueue(group);
    scheduler.start();
    const parts: Parts = { config, db, secrets, audit, agentAudit, local, channels, containers, queue, executor, outbox, servers, waiters, scheduler, lock, startedAt };
    const app = new Enclave(parts);
    app.onStop = () => {
      stopping = true;
    };
    return app;
  }

  private onStop: () => void = () => undefined;

  /** Channels first (nothing new comes in), then running turns are cut off and left for the next start. */
  async stop(): Promise<void> {
    const { channels, executor, outbox, queue, containers, servers, waiters, scheduler, agentAudit, db, lock } = this.parts;
    this.onStop();
    for (const ch of channels.values()) await ch.disconnect().catch(() => undefined);
    executor.shutdown();
    const draining = queue.stop();
    await containers.stopAll();
    await draining;
    waiters.settleAll();
    await scheduler.stop();
    await servers.closeAll();
    await outbox.close();
    agentAudit.flush();
    db.close();
    lock.release();
  }
}

function firstChat(config: Config, group: string): { channel: string; chatId: string } | undefined {
  const ref = config.groups.get(group)?.chats[0];
  if (!ref) return undefined;
  const at = ref.indexOf(':');
  return { channel: ref.slice(0, at), chatId: ref.slice(at + 1) };
}

import type Docker from 'dockerode';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Channel } from '../channels/channel.js';
import { LocalChannel } from '../channels/local/local-channel.js';
import type { Dispatcher } from 'undici';
import type { QrOutput } from '../channels/whatsapp/qr.js';
import type { WhatsAppSocketFactory } from '../channels/whatsapp/socket.js';
import { PairingStore } from './access/pairing-store.js';
import { RefusalNotices } from './access/refusal-notices.js';
import { AuditLog } from './audit/audit-log.js';
import { ThrottledAudit } from './audit/throttled-audit.js';
import { platformChannels } from './channel-factory.js';
import { ChannelStarts, type ChannelStateReport } from './channel-starts.js';
import { systemClock, type Clock } from './clock.js';
import { GLOBAL_GROUP_DIR, hostTimezone } from './config/groups.js';
import { LiveConfig } from './config/live-config.js';
import { loadConfig, seedHome, type Config } from './config/load.js';
import { agentIdentity } from './container/agent-identity.js';
import { ContainerManager } from './container/container-manager.js';
import { ContainerStateStore } from './container/container-state-store.js';
import { DockerRuntime } from './container/docker-runtime.js';
import type { ContainerRuntime } from './container/runtime.js';
import { ActiveTurns } from './core/active-turns.js';
import { sendFileFromAgent, sendFromAgent } from './core/agent-messages.js';
import { budgetAlerts } from './core/budget-alerts.js';
import { chatCommands } from './core/commands/chat-commands.js';
import { Commands } from './core/commands/commands.js';
import { GroupQueue } from './core/group-queue.js';
import { reloadGroupsAndRetire } from './core/group-reload.js';
import { GroupSettings } from './core/group-settings.js';
import { History } from './db/history.js';
import { budgetLine, hostStatus } from './core/host-status.js';
import { HostNotices } from './core/host-notices.js';
import { MessageStore } from './core/message-store.js';
import { ModelsInUse } from './core/models-in-use.js';
import { Outbox } from './core/outbox.js';
import { OutboxFiles } from './core/outbox-files.js';
import { Router } from './core/router.js';
import { scheduledTurnRunner, taskChatCheck } from './core/scheduled-turns.js';
import { SeenChats } from './core/seen-chats.js';
import { SettleWaiters } from './core/settle-waiters.js';
import { TurnExecutor } from './core/turn-executor.js';
import { markInterruptedLiveReplies } from './core/live-recovery.js';
import type { LiveTimers } from '../channels/channel.js';
import type { Dashboard } from './dashboard/dashboard-server.js';
import { startDashboardIfEnabled } from './dashboard/start-dashboard.js';
import { LatestWhatsAppQr } from './dashboard/whatsapp-qr.js';
import { openDatabase, type Db } from './db/database.js';
import { StorageHealth } from './db/storage-health.js';
import { storageGate, tellOwnerDirectly } from './core/storage-gate.js';
import { InstanceLock } from './instance-lock.js';
import { SqliteLedger } from './ledger/ledger.js';
import { scrubSecrets, type Logger } from './logger.js';
import { homeId } from './paths.js';
import { createModelProxy } from './proxy/model-proxy.js';
import { Cooldowns } from './proxy/cooldowns.js';
import { createTranscriber } from './proxy/transcription-call.js';
import { TurnImages } from './media/turn-images.js';
import { Scheduler, type SchedulerTimer } from './scheduler/scheduler.js';
import { TaskStore } from './scheduler/task-store.js';
import { envSecretValues, SecretValues } from './secret-values.js';
import { createHostServices } from './services/host-services.js';
import { checkModelsOffline, modelProblemReply, turnModelProblems, turnOnlineProblems, type ModelProblem } from './services/model-readiness.js';
import { SocketServers } from './socket/socket-servers.js';
import { TeamSystem } from './teams/team-system.js';
import { createHostTools } from './tools/host-tools.js';
import type { WebFetchOptions } from './tools/web-fetch.js';
import { resolveSecret, Vault } from './vault/vault.js';

export interface EnclaveOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Image build and start-up progress, for people watching. */
  onProgress?: (line: string) => void;
  /** Where agent containers run; default Docker (`docker` picks the engine connection). */
  runtime?: ContainerRuntime;
  docker?: Docker;
  restartBackoffMs?: number;
  clock?: Clock;
  schedulerTimer?: SchedulerTimer;
  /** How live replies wait between edits (tests move time themselves). */
  liveTimers?: LiveTimers;
  /** DNS and dialing for web_fetch (tests point a public test address at a local server). */
  webFetch?: WebFetchOptions;
  onWhatsAppQr?: QrOutput;
  /** Collects the host's secret values for the caller's logger, from the moment the vault opens. */
  secretValues?: SecretValues;
  /** Makes WhatsApp's socket (tests drive the adapter through a fake); default Baileys. */
  whatsappSocketFactory?: WhatsAppSocketFactory;
  /** The connection pool for one WhatsApp media download (tests serve the media host from memory). */
  whatsappMediaDispatcher?: () => Dispatcher;
  /** The time bound of one received file (media.timeoutSeconds); tests end it themselves instead of waiting. */
  mediaTimeout?: (ms: number) => AbortSignal;
  /** How each channel's first connection attempt ended (they connect in the background). */
  onChannelSettled?: (report: ChannelStateReport) => void;
}

interface Parts {
  live: LiveConfig;
  health: StorageHealth;
  db: Db;
  secrets: SecretValues;
  audit: AuditLog;
  agentAudit: ThrottledAudit;
  local: LocalChannel;
  channels: Map<string, Channel>;
  channelStarts: ChannelStarts;
  containers: ContainerManager;
  queue: GroupQueue;
  executor: TurnExecutor;
  outbox: Outbox;
  servers: SocketServers;
  waiters: SettleWaiters;
  scheduler: Scheduler;
  lock: InstanceLock;
  startedAt: number;
  clock: Clock;
  stopping: { value: boolean };
  hasSecret: (name: string) => boolean;
  dashboard?: Dashboard;
  teams: TeamSystem;
  /** Re-reads the groups, retires the removed ones, and fails team tasks nobody can take any more. */
  reloadGroups: () => Promise<string[]>;
}

/** One running Enclave host: this file only builds the parts, connects them, starts and stops them. */
export class Enclave {
  private constructor(private readonly parts: Parts) {}

  get config(): Config {
    return this.parts.live.get();
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
  get teams(): TeamSystem {
    return this.parts.teams;
  }
  get scheduler(): Scheduler {
    return this.parts.scheduler;
  }
  get dashboard(): Dashboard | undefined {
    return this.parts.dashboard;
  }
  /** Each channel and its state: connecting, connected or failed. */
  channelStates(): ChannelStateReport[] {
    return this.parts.channelStarts.list();
  }
  /** Resolves when every channel's first connection attempt has ended. */
  channelsSettled(): Promise<void> {
    return this.parts.channelStarts.settled();
  }
  channel(name: string): Channel | undefined {
    return this.parts.channels.get(name);
  }

  /** What keeps a configured model from answering (no provider, key or price), checked without the network. */
  modelProblems(): ModelProblem[] {
    return checkModelsOffline(this.parts.live.get(), { hasSecret: this.parts.hasSecret });
  }

  /** Every secret value the host holds, for log scrubbing. */
  secretValues(): string[] {
    return this.parts.secrets.values();
  }

  /** Re-reads groups after `enclave groups add|remove`; returns the registered names. */
  reloadGroups(): Promise<string[]> {
    return this.parts.reloadGroups();
  }

  status(): string {
    const { live, db, channels, containers, queue, startedAt } = this.parts;
    return hostStatus({ config: live.get, db, channels, containers, queue, startedAt, clock: this.parts.clock });
  }

  static async start(opts: EnclaveOptions): Promise<Enclave> {
    seedHome(opts.home);
    // Checked before anything is built or written: a broken file stops here with its line and fix.
    const { paths } = loadConfig(opts.home, opts.env ?? process.env);
    // Taken before the image is prepared: a starting instance holds it, so `enclave send` and
    // `enclave status` agree that one is starting.
    const lock = InstanceLock.acquire(paths.lockFile);
    try {
      const runtime = opts.runtime ?? (await DockerRuntime.connect(opts.docker));
      const image = await runtime.prepare(opts.onProgress);
      return await Enclave.assemble(runtime, image, lock, opts);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async assemble(runtime: ContainerRuntime, image: string, lock: InstanceLock, opts: EnclaveOptions): Promise<Enclave> {
    const env = opts.env ?? process.env;
    const { log } = opts;
    const clock = opts.clock ?? systemClock;
    const startedAt = clock();
    const stopping = { value: false };
    const first = loadConfig(opts.home, env);
    const channels = new Map<string, Channel>();
    // A full disk is logged, told to the owners directly (the outbox needs the disk), and refuses new turns until space is back.
    const health = new StorageHealth({ dir: first.paths.dataDir, log, clock, tellOwner: (text) => tellOwnerDirectly(first, channels, log, text) });
    const db = openDatabase(first.paths.dbFile, { faults: health });
    const secrets = opts.secretValues ?? new SecretValues();
    const audit = new AuditLog(db, clock, { secrets: () => secrets.values() });
    const vault = Vault.openOrClose(db, { dataDir: first.paths.dataDir, env, audit });
    // A key stored with `enclave secrets set OPENAI_API_KEY` works like the environment variable.
    const live = new LiveConfig(loadConfig(opts.home, env, (name) => vault.get(name) !== undefined));
    const config = live.get;
    secrets.add(() => vault.values());
    secrets.add(() => vault.keyTexts());
    secrets.add(() => envSecretValues(config(), env));
    const secret = (name: string) => resolveSecret(name, vault, env);
    const hasSecret = (name: string) => secret(name) !== undefined;
    // What an agent is refused is audited with a per-group cap, so a looping agent cannot fill the disk.
    const agentAudit = new ThrottledAudit({ append: (e) => health.guard('audit', () => audit.append(e)) }, clock);

    const store = new MessageStore(db, clock);
    const history = new History(db, { clock, scrub: (text) => scrubSecrets(text, secrets.values()) });
    const settings = new GroupSettings(db, clock);
    const tasks = new TaskStore(db, audit, clock);
    const pairings = new PairingStore(db, clock);
    const refusals = new RefusalNotices(db, clock);
    const waiters = new SettleWaiters();
    const turns = new ActiveTurns();
    const modelsInUse = new ModelsInUse();
    const containerStates = new ContainerStateStore(db, health.background('container state'), clock);
    containerStates.markAllStopped();

    const local = new LocalChannel(clock, join(first.paths.dataDir, 'files-sent'));
    // Secret values never reach a chat, whatever a bug upstream might put into a reply.
    const outbox = new Outbox(db, channels, log, { clock }, (text) => scrubSecrets(text, secrets.values()));
    const outboxFiles = new OutboxFiles(join(first.paths.dataDir, 'outbox'));
    const notices = new HostNotices({ config, turns, outbox });

    const ledger = new SqliteLedger({
      db,
      groupLimits: (g) => config().groups.get(g)?.budget ?? config().enclave.budgets.group,
      globalLimits: () => config().enclave.budgets.global,
      hostTimezone: hostTimezone(),
      clock,
    });
    const closed = ledger.closeOpenReservations(startedAt);
    if (closed) log.warn({ count: closed }, 'reservations left open by the previous run were charged in full');
    const teams: TeamSystem = new TeamSystem({
      db, clock, config, audit: agentAudit, log, outbox, history, turns, model: (g) => settings.model(g), tellChat: (g, chat, text) => notices.tellChat(g, chat, text),
      stopping: () => stopping.value, containers: (): ContainerManager => containers, queue: (): GroupQueue => queue, sockets: (): SocketServers => servers,
    });
    const alerts = budgetAlerts({ db, config, tell: (group, text) => notices.tell(group, text), log, now: clock });

    // The photos the host built for each group's running turn: the only images the proxy passes.
    const turnImages = new TurnImages();
    const transcribe = createTranscriber({
      config: () => config().enclave.transcription,
      providers: () => config().providers,
      globalPrices: () => config().enclave.prices,
      secret,
      secretValues: () => secrets.values(),
      ledger,
      audit: agentAudit,
      cooldowns: new Cooldowns(first.enclave.failoverCooldownSeconds * 1000, clock),
      log,
      onBudgetRefused: alerts.onBudgetRefused,
      onSettled: alerts.onSettled,
    });

    // The scheduler, built further down, hears of every change to the tasks.
    const taskChanges = new EventEmitter();
    const tasksChanged = () => void taskChanges.emit('changed');
    const servers = new SocketServers({
      runDir: first.paths.runDir,
      agentUid: agentIdentity().uid,
      onModel: createModelProxy({
        groups: () => config().groups,
        providers: () => config().providers,
        globalPrices: () => config().enclave.prices,
        secret,
        secretValues: () => secrets.values(),
        ledger: teams.ledger(ledger),
        audit: agentAudit,
        cooldownMs: first.enclave.failoverCooldownSeconds * 1000,
        clock,
        log,
        onModelUsed: (group, model) => modelsInUse.record(group, model),
        onBudgetRefused: alerts.onBudgetRefused,
        onSettled: alerts.onSettled,
        hostImages: (group, url) => turnImages.tiles(group, url),
      }),
      onHostTool: createHostTools({
        groups: () => config().groups, turnTarget: (g, t) => turns.get(g, t), send: (g, t, text) => sendFromAgent(turns, outbox, g, t, text),
        sendFile: {
          maxBytes: () => config().enclave.media.sendMaxMb * 1024 * 1024,
          stage: (bytes) => outboxFiles.put(bytes),
          send: (g, t, file, caption) => sendFileFromAgent(turns, outbox, g, t, file, caption),
        },
        tasks, onTasksChanged: tasksChanged, audit: agentAudit, clock, web: opts.webFetch, extraTools: teams.tools(),
      }).handle,
      audit: agentAudit,
      log,
    });
    const identity = agentIdentity();
    const containers = new ContainerManager({
      runtime,
      image,
      homeId: homeId(first.paths.home),
      uid: identity.uid,
      gid: identity.gid,
      globalMemoryDir: join(first.paths.groupsDir, GLOBAL_GROUP_DIR, 'memory'),
      limits: first.enclave.container,
      socketServer: (group) => servers.get(group),
      onState: (s) => containerStates.save(s),
      log,
      restartBackoffMs: opts.restartBackoffMs,
      clock,
      helperDirs: { scratchRoot: join(first.paths.dataDir, 'helpers'), runDir: first.paths.runDir },
      onTurnEnded: (group, turnId) => teams.helpers.turnEnded(group, turnId),
    });
    await containers.cleanupLeftovers();

    const media = { media: () => config().enclave.media, channels, transcribe, log, images: turnImages, timeout: opts.mediaTimeout };
    const executor = new TurnExecutor({ config, db, store, history, outbox, waiters, channels, containers, settings, turns, log, clock, secrets: () => secrets.values(), liveTimers: opts.liveTimers, media,
      modelUnready: (group, model) => {
        const problems = turnModelProblems(config(), group, model, { hasSecret });
        return problems.length > 0 ? modelProblemReply(problems) : undefined;
      },
      diagnose: async (group, model) => {
        const problems = await turnOnlineProblems(config(), group, model, { secret });
        return problems.length > 0 ? modelProblemReply(problems) : undefined;
      },
    });
    const queue = new GroupQueue(
      first.enclave.maxContainers,
      teams.turnRunner((group) => executor.runNext(group), (group) => store.hasQueued(group)),
      (group, err) => log.error({ group, err: (err as Error).message }, 'turn crashed'),
    );
    const scheduler = new Scheduler({
      store: tasks,
      clock,
      runTask: scheduledTurnRunner({ store, waiters, queue, stopping: () => stopping.value, clock }),
      mayRun: taskChatCheck(config),
      notify: (task, text) => notices.tellChat(task.group, task, text),
      audit,
      log,
      timer: opts.schedulerTimer,
    });
    taskChanges.on('changed', () => scheduler.wake());

    const reloadGroups = async () => {
      const names = await reloadGroupsAndRetire(live, containers, servers);
      teams.afterReload();
      return names;
    };
    const services = createHostServices({ db, audit, clock, config, tasks, pairings, onTasksChanged: tasksChanged, reloadGroups });
    const commands = new Commands(
      chatCommands({
        config, audit, services, history, store, queue, containers, channels, settings,
        team: { service: teams.service, store: teams.store },
        lastModel: (g) => modelsInUse.last(g),
        budgetLine: (g) => budgetLine({ config, db }, g, clock()),
      }),
      { audit, notices: refusals },
    );
    const router = new Router({ config, store, outbox, queue, commands, waiters, pairings, notices: refusals, seenChats: new SeenChats(db, clock), audit, log });

    if (first.enclave.channels.local.enabled) channels.set(local.name, local);
    const whatsappQr = new LatestWhatsAppQr(clock, opts.onWhatsAppQr);
    for (const ch of platformChannels({ config: first, db, log, clock, secret, commands: commands.menu(), onWhatsAppQr: whatsappQr.output, whatsappSocketFactory: opts.whatsappSocketFactory, whatsappMediaDispatcher: opts.whatsappMediaDispatcher })) channels.set(ch.name, ch);
    // In the background, each on its own: a platform that hangs holds up neither the start nor the local chat.
    const channelStarts = new ChannelStarts(channels, log, opts.onChannelSettled);
    channelStarts.start(storageGate(router.handle, { health, channels, clock, log }));
    // Replies left undelivered by the last run go out in the background, each chat on its own.
    markInterruptedLiveReplies(db, outbox, log);
    void outbox.flush();
    for (const group of teams.resume()) queue.enqueue(group);
    for (const group of store.requeueInterrupted()) queue.enqueue(group);
    scheduler.start();
    const dashboard = await startDashboardIfEnabled({ config, db, audit, pairings, tasks, services, containers, queue, channels, whatsappQr: () => whatsappQr.current(), startedAt, clock, secrets: () => secrets.values(), log });
    return new Enclave({ live, health, db, secrets, audit, agentAudit, local, channels, channelStarts, containers, queue, executor, outbox, servers, waiters, scheduler, lock, startedAt, clock, stopping, hasSecret, dashboard, teams, reloadGroups });
  }

  /** Channels first (nothing new comes in), then running turns are cut off and left for the next start. */
  async stop(): Promise<void> {
    const { health, channels, executor, outbox, queue, containers, servers, waiters, scheduler, agentAudit, db, lock, stopping } = this.parts;
    stopping.value = true;
    await this.parts.dashboard?.close();
    for (const ch of channels.values()) await ch.disconnect().catch(() => undefined);
    executor.shutdown();
    this.parts.teams.helpers.stopAll();
    const draining = queue.stop();
    await containers.stopAll();
    await draining;
    waiters.settleAll();
    await scheduler.stop();
    this.parts.teams.events.stop();
    await servers.closeAll();
    await outbox.close();
    agentAudit.flush();
    health.close();
    db.close();
    lock.release();
  }
}

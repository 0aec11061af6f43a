import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { Channel } from '../../channels/channel.js';
import { parseChatRef } from '../../channels/chat-ref.js';
import type { PairingStore } from '../access/pairing-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { hostTimezone } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { ContainerManager } from '../container/container-manager.js';
import { ContainerStateStore } from '../container/container-state-store.js';
import type { GroupQueue } from '../core/group-queue.js';
import type { Db } from '../db/database.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope } from '../ledger/limits.js';
import { formatAmount } from '../ledger/messages.js';
import { recentNotices } from '../ledger/notices.js';
import { windowSpend } from '../ledger/spend.js';
import { collectUsage } from '../ledger/usage-summary.js';
import { dayWindow } from '../ledger/windows.js';
import type { TaskStore } from '../scheduler/task-store.js';
import type { HostServices } from '../services/host-services.js';
import { TaskError } from '../services/task-service.js';
import { ChainWatch } from './chain-watch.js';
import type { DashboardOperations, GroupView, MemoryFileView, OverviewView } from './operations.js';

export interface StoreOperationsDeps {
  config: () => Config;
  db: Db;
  audit: AuditLog;
  pairings: PairingStore;
  tasks: TaskStore;
  /** The operations the CLI and the chat commands call too: the dashboard's writes go through them. */
  services: HostServices;
  containers: ContainerManager;
  queue: GroupQueue;
  channels: ReadonlyMap<string, Channel>;
  whatsappQr: () => string | undefined;
  startedAt: number;
  clock: Clock;
}

const MEMORY_FILE_BYTES = 64 * 1024;
const MEMORY_FILES = 50;
const DAY_MS = 86_400_000;
const RECENT_AUDIT_ROWS = 500;

/** DashboardOperations over today's stores (PairingStore, TaskStore, ledger limits, ContainerManager, AuditLog). */
export function storeOperations(deps: StoreOperationsDeps): DashboardOperations {
  const { db, audit, clock } = deps;
  const containerStates = new ContainerStateStore(db);
  const group = (name: string) => deps.config().groups.get(name);
  const chain = new ChainWatch(audit, clock);

  return {
    overview: () => overview(deps, containerStates),
    notices: (limit) => recentNotices(db, limit),
    usage: () => {
      const cfg = deps.config();
      return collectUsage(db, { groups: [...cfg.groups.values()], globalLimits: cfg.enclave.budgets.global, hostTimezone: hostTimezone(), now: clock() });
    },
    dailySpend: (count) => {
      const cfg = deps.config();
      const zone = hostTimezone();
      const now = clock();
      const windows = Array.from({ length: count }, (_, i) => dayWindow(zone, now - (count - 1 - i) * DAY_MS));
      const names = [...cfg.groups.keys()];
      return {
        days: windows.map((w) => w.key),
        series: [...names.map((name) => ({ name, micros: windows.map((w) => windowSpend(db, name, w).micros) })), { name: 'all groups', micros: windows.map((w) => windowSpend(db, undefined, w).micros) }],
        globalDailyLimitMicros: effectiveLimits(db, GLOBAL_SCOPE, cfg.enclave.budgets.global).day.usd,
      };
    },
    audit: (n, filter) => {
      const rows = audit.tail(filter.since === undefined ? n : Math.max(n, 5000), filter);
      return filter.since === undefined ? rows : rows.filter((r) => r.at >= filter.since!).slice(-n);
    },
    auditChain: () => chain.state(),
    groups: () => [...deps.config().groups.values()].map((g): GroupView => ({
      name: g.name,
      chats: g.chats,
      model: g.model,
      fallbacks: g.fallbacks,
      timezone: g.timezone,
      trigger: g.trigger,
      requireTrigger: g.requireTrigger,
      maxSteps: g.maxSteps,
      maxOutputTokens: g.maxOutputTokens,
      tools: g.tools,
      skills: g.skills,
      allowSenders: g.allowSenders,
      webAllowlist: g.webAllowlist,
      limits: effectiveLimits(db, groupScope(g.name), g.budget),
      memoryFiles: memoryFiles(g.memoryDir),
    })),
    containerLimits: () => deps.config().enclave.container,
    tasks: () => deps.tasks.list(undefined, { includeFinished: true }),
    pairings: () => deps.pairings.list(),
    whatsappQr: deps.whatsappQr,

    approvePairing: (code, actor) => {
      const pairing = deps.services.pairings.approve(code, actor);
      if (!pairing) return { ok: false, message: 'No pending pairing has that code (codes expire after an hour).' };
      return { ok: true, message: `Approved ${pairing.senderName} (${pairing.channel}:${pairing.senderId}).` };
    },
    revokePairing: (who, actor) => {
      const ref = parseChatRef(who);
      if (!ref || !deps.services.pairings.revoke(ref.channel, ref.chatId, actor)) return { ok: false, message: `${who} is neither approved nor waiting.` };
      return { ok: true, message: `Revoked ${who}: their messages no longer reach an agent.` };
    },
    changeTask: (id, action, actor) => {
      const tasks = deps.services.tasks;
      try {
        if (action === 'cancel') tasks.cancel(id, { actor });
        else if (action === 'pause') tasks.pause(id, { actor });
        else tasks.resume(id, { actor });
      } catch (err) {
        if (err instanceof TaskError) return { ok: false, message: `${err.message[0]!.toUpperCase()}${err.message.slice(1)}.` };
        throw err;
      }
      return { ok: true, message: `Task #${id} ${action === 'cancel' ? 'cancelled' : `${action}d`}.` };
    },
    setBudget: (s, actor) => {
      const target = s.group === undefined ? undefined : group(s.group);
      if (s.group !== undefined && !target) return { ok: false, message: `There is no group ${s.group}.` };
      deps.services.budget.set(target, { scope: target ? 'group' : 'global', period: s.period, unit: s.unit, amount: s.amount }, actor);
      const whose = s.group ?? 'all groups together';
      const now = s.amount === null ? 'no limit' : formatAmount(s.unit, s.amount);
      return { ok: true, message: `The ${s.period === 'day' ? 'daily' : 'monthly'} ${s.unit === 'usd' ? 'budget' : 'token limit'} of ${whose} is now ${now}.` };
    },
    stopTurn: (name, actor) => {
      if (!group(name)) return { ok: false, message: `There is no group ${name}.` };
      const stopped = deps.containers.abortTurn(name);
      if (stopped) audit.append({ kind: 'group_change', group: name, actor, detail: { action: 'stop_turn' } });
      return stopped ? { ok: true, message: `Stopped the running turn of ${name}.` } : { ok: false, message: `Nothing is running in ${name} right now.` };
    },
    recordSession: (event) => {
      audit.append({ kind: 'access_change', actor: `dashboard:${event.sessionId.slice(0, 8)}`, detail: { action: event.action, session: event.sessionId, userAgent: event.userAgent } });
    },
  };
}

function overview(deps: StoreOperationsDeps, states: ContainerStateStore): OverviewView {
  const cfg = deps.config();
  const channels = [...deps.channels.values()].map((ch) => ({ name: ch.name, ...ch.health() }));
  const groups = [...cfg.groups.keys()].map((name) => {
    const c = deps.containers.state(name);
    return { name, container: c.state, restarts: c.restarts, turnRunning: deps.queue.isRunning(name) };
  });
  const errors: string[] = [];
  for (const ch of channels) if (ch.error) errors.push(`The ${ch.name} channel is ${ch.connected ? 'connected but reported' : 'down'}: ${ch.error}`);
  for (const g of groups) {
    const lastError = states.get(g.name)?.error;
    if (lastError) errors.push(`The agent container of ${g.name} last failed: ${lastError}`);
  }
  // Among the newest rows only: a filtered tail would scan the whole log on every live update.
  for (const row of deps.audit.tail(RECENT_AUDIT_ROWS).filter((r) => r.kind === 'model_refused').slice(-5)) {
    const message = typeof row.detail.message === 'string' ? row.detail.message : String(row.detail.reason ?? 'refused');
    errors.push(`A model call of ${row.group ?? 'a group'} was refused at ${new Date(row.at).toISOString()}: ${message}`);
  }
  return { startedAt: deps.startedAt, channels, groups, turnsRunning: deps.queue.activeCount, queueWaiting: deps.queue.waitingCount, errors };
}

/** The group's memory files (regular files at the top level only; links are never followed), each cut at 64 KiB. */
function memoryFiles(dir: string): MemoryFileView[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort().slice(0, MEMORY_FILES);
  } catch {
    return [];
  }
  const files: MemoryFileView[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        if (!fstatSync(fd).isFile()) continue;
        const buf = Buffer.alloc(MEMORY_FILE_BYTES + 1);
        const n = readSync(fd, buf, 0, buf.length, 0);
        files.push({ name, text: buf.subarray(0, Math.min(n, MEMORY_FILE_BYTES)).toString('utf8'), truncated: n > MEMORY_FILE_BYTES });
      } finally {
        closeSync(fd);
      }
    } catch {
      // A file that vanished or cannot be read is left out.
    }
  }
  return files;
}

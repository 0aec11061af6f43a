import type { SentNotice } from '../ledger/notices.js';
import type { Pairing } from '../access/pairing-store.js';
import type { AuditFilter, AuditVerdict } from '../audit/audit-log.js';
import type { AuditRow } from '../audit/types.js';
import type { ContainerConfig } from '../config/schema.js';
import type { WindowLimits } from '../ledger/limits.js';
import type { BudgetPeriod, BudgetUnit } from '../ledger/types.js';
import type { UsageSummary } from '../ledger/usage-summary.js';
import type { Task } from '../scheduler/task-store.js';
import type { SessionEvent } from './sessions.js';

export interface ChannelView {
  name: string;
  connected: boolean;
  lastEventAt?: number;
  reconnects: number;
  error?: string;
}

export interface GroupStatusView {
  name: string;
  container: 'running' | 'stopped';
  restarts: number;
  turnRunning: boolean;
}

export interface OverviewView {
  startedAt: number;
  channels: ChannelView[];
  groups: GroupStatusView[];
  turnsRunning: number;
  queueWaiting: number;
  /** The last problems, each a plain sentence. */
  errors: string[];
}

export interface MemoryFileView {
  name: string;
  /** The first bytes of the file as text. */
  text: string;
  truncated: boolean;
}

export interface GroupView {
  name: string;
  chats: string[];
  model: string;
  fallbacks: string[];
  timezone: string;
  trigger: string;
  requireTrigger: boolean;
  maxSteps: number;
  maxOutputTokens: number;
  tools: string[];
  skills: string[];
  allowSenders: string[];
  webAllowlist: string[];
  limits: WindowLimits;
  memoryFiles: MemoryFileView[];
}

export interface DailySpend {
  /** Local dates of the host's zone, oldest first. */
  days: string[];
  /** Micro-dollars per day: one series per group, then 'all groups'. */
  series: { name: string; micros: number[] }[];
  /** The limit of all groups together per day (micro-dollars), if any. */
  globalDailyLimitMicros: number | null;
}

export interface AuditView {
  rows: AuditRow[];
  verdict: ChainState;
}

/** The chain's verification, as of checkedAt, or the first walk over the log still under way. */
export type ChainState = (AuditVerdict & { checkedAt: number }) | { verifying: true; rows: number };

export interface BudgetSetting {
  /** A group name, or undefined for all groups together. */
  group?: string;
  period: BudgetPeriod;
  unit: BudgetUnit;
  /** Micro-dollars or tokens; null removes the limit. */
  amount: number | null;
}

/** A write's answer: a sentence for the person either way. */
export type WriteResult = { ok: true; message: string } | { ok: false; message: string };

/**
 * Everything the dashboard reads and changes. One adapter implements it over today's stores;
 * pointing it at shared services later is a change in that one file.
 */
export interface DashboardOperations {
  overview(): OverviewView;
  usage(): UsageSummary;
  /** Budget notices the chats were sent (50/80/100% and refusals), newest first. */
  notices(limit: number): SentNotice[];
  dailySpend(days: number): DailySpend;
  audit(n: number, filter: AuditFilter & { since?: number }): AuditRow[];
  auditChain(): ChainState;
  groups(): GroupView[];
  containerLimits(): ContainerConfig;
  tasks(): Task[];
  pairings(): Pairing[];
  /** The WhatsApp pairing QR text while one waits to be scanned. */
  whatsappQr(): string | undefined;

  approvePairing(code: string, actor: string): WriteResult;
  revokePairing(identity: string, actor: string): WriteResult;
  changeTask(id: number, action: 'pause' | 'resume' | 'cancel', actor: string): WriteResult;
  setBudget(setting: BudgetSetting, actor: string): WriteResult;
  stopTurn(group: string, actor: string): WriteResult;
  /** Audits a dashboard login, logout or revocation. */
  recordSession(event: SessionEvent): void;
}

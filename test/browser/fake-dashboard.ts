import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { containerSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { Dashboard, type DashboardOptions } from '../../src/dashboard/dashboard-server.js';
import type { DashboardOperations, OverviewView } from '../../src/dashboard/operations.js';
import type { SessionEvent } from '../../src/dashboard/sessions.js';

/** A key with the characters that change under JSON and HTML escaping. */
export const QUOTED_SECRET = 'sk-canary"quote\\back<lt>&amp9999';
export const PLAIN_SECRET = 'tg-token-12345:ABCDEFGH';

export interface FakeDashboard {
  dashboard: Dashboard;
  origin: string;
  /** What the host's logger wrote. */
  logText(): string;
  /** Logins, logouts and revocations, as audited. */
  sessionEvents: SessionEvent[];
  /** How often the overview was computed. */
  overviewCalls(): number;
  /** Makes the next page views fail with this error. */
  failWith(error: Error | undefined): void;
  /** A fresh session cookie (`enclave_session=…`), logged in as a browser would. */
  login(userAgent?: string): Promise<string>;
}

/**
 * The real dashboard server on a free loopback port over fake operations whose answers carry secret
 * values in every place an agent or a platform could put one.
 */
export async function startFakeDashboard(t: TestContext, extra: Partial<DashboardOptions> = {}): Promise<FakeDashboard> {
  const logFile = join(mkdtempSync(join(tmpdir(), 'enclave-dash-log-')), 'host.log');
  const sessionEvents: SessionEvent[] = [];
  let calls = 0;
  let failure: Error | undefined;
  const overview = (): OverviewView => {
    calls++;
    return {
      startedAt: 0,
      channels: [{ name: 'telegram', connected: false, reconnects: 1, error: `fetch https://api.telegram.org/bot${PLAIN_SECRET}/getUpdates failed` }],
      groups: [{ name: 'main', container: 'running', restarts: 0, turnRunning: false }],
      turnsRunning: 0,
      queueWaiting: 0,
      errors: [`upstream echoed ${QUOTED_SECRET}`],
    };
  };
  const window = { key: '2026-01-15', start: 0, resetsAt: 0, micros: 0, openMicros: 0, limitMicros: null, tokens: 0, openTokens: 0, limitTokens: null };
  const ok = { ok: true as const, message: 'Done.' };
  const ops: DashboardOperations = {
    overview,
    usage: () => ({ at: 0, groups: [], global: { name: 'global', timezone: 'UTC', configured: true, day: window, month: window } }),
    notices: () => [],
    dailySpend: () => ({ days: [], series: [], globalDailyLimitMicros: null }),
    audit: () => [{ id: 1, at: 0, kind: 'denial', group: 'main', actor: 'agent', detail: { note: `a ${QUOTED_SECRET} b`, token: PLAIN_SECRET }, prevHash: '', hash: '' }],
    auditChain: () => ({ ok: true, rows: 1, checkedAt: 0 }),
    groups: () => {
      if (failure) throw failure;
      return [];
    },
    containerLimits: () => containerSchema.parse({}),
    tasks: () => [],
    pairings: () => [],
    whatsappQr: () => undefined,
    approvePairing: () => ok,
    revokePairing: () => ok,
    changeTask: () => ok,
    setBudget: () => ok,
    stopTurn: () => ok,
    recordSession: (event) => void sessionEvents.push(event),
  };
  const dashboard = await Dashboard.start({
    config: { enabled: true, host: '127.0.0.1', port: 0, allowRemote: false },
    ops,
    secrets: () => [QUOTED_SECRET, PLAIN_SECRET],
    whatsapp: () => false,
    clock: Date.now,
    log: createLogger({ destination: logFile, secrets: () => [QUOTED_SECRET, PLAIN_SECRET] }),
    pollMs: 20,
    ...extra,
  });
  t.after(() => dashboard.close());
  const origin = dashboard.origin.origin;
  return {
    dashboard,
    origin,
    overviewCalls: () => calls,
    sessionEvents,
    logText: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    failWith: (error) => void (failure = error),
    login: async (userAgent = 'test-agent') => {
      const token = dashboard.loginLink().split('#')[1];
      const res = await fetch(`${origin}/login`, { method: 'POST', headers: { origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', 'user-agent': userAgent }, body: JSON.stringify({ token }) });
      const cookie = res.headers.get('set-cookie')?.split(';')[0];
      if (!cookie) throw new Error(`login failed: ${res.status}`);
      return cookie;
    },
  };
}

/** The first `overview` event of the live stream, as text. */
export async function firstEvent(origin: string, cookie: string): Promise<string> {
  const ac = new AbortController();
  const res = await fetch(`${origin}/api/events`, { headers: { cookie }, signal: ac.signal });
  const reader = res.body!.getReader();
  let text = '';
  while (!/\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  ac.abort();
  return text;
}

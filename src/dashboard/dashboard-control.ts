import type { SessionInfo } from './sessions.js';

/** What `enclave dashboard` asks the running host over its control socket. */
export type DashboardControlRequest = { action: 'login' } | { action: 'sessions' } | { action: 'revoke'; id: string };

export interface DashboardControlAnswer {
  link?: string;
  sessions?: SessionInfo[];
  revoked?: number;
  error?: string;
}

/** The part of a running dashboard the control socket may use. */
export interface DashboardControl {
  loginLink(): string;
  listSessions(): SessionInfo[];
  revokeSessions(idPrefix: string): number;
}

export function answerDashboardControl(dashboard: DashboardControl | undefined, body: unknown): DashboardControlAnswer {
  const req = (typeof body === 'object' && body !== null ? body : {}) as Partial<DashboardControlRequest> & { id?: unknown };
  if (!dashboard) return { error: 'the dashboard is not running: set dashboard.enabled: true in enclave.yaml and restart Enclave (if it is set, the log says why it could not start, e.g. its port is taken)' };
  if (req.action === 'login') return { link: dashboard.loginLink() };
  if (req.action === 'sessions') return { sessions: dashboard.listSessions() };
  if (req.action === 'revoke' && typeof req.id === 'string') return { revoked: dashboard.revokeSessions(req.id) };
  return { error: 'unknown dashboard request' };
}

import { callControl, NoRunningInstance } from '../control/control-client.js';
import type { DashboardControlAnswer, DashboardControlRequest } from '../dashboard/dashboard-control.js';
import { enclaveHome, homePaths } from '../paths.js';
import { fail, out } from './output.js';

async function ask(req: DashboardControlRequest, home: string): Promise<DashboardControlAnswer> {
  const paths = homePaths(home);
  try {
    const answer = await callControl<DashboardControlAnswer>(paths.controlSocket, 'POST', '/dashboard', req);
    if (answer.error) fail(new Error(answer.error));
    return answer;
  } catch (err) {
    if (err instanceof NoRunningInstance) fail(new Error(`no Enclave is running for ${paths.home}: the dashboard runs inside it (start it with: npm start)`));
    throw err;
  }
}

/** `enclave dashboard`: a one-time login link from the running host. */
export async function runDashboardLogin(home = enclaveHome()): Promise<void> {
  const { link } = await ask({ action: 'login' }, home);
  out(`Open this link within 10 minutes; it works once:\n\n  ${link}\n`);
  out('Warning: browser cookies are not kept apart by port, so other web apps on this machine (any localhost port) can read or disturb this session; log out when done, or give the dashboard its own address (dashboard.host: 127.0.0.2).');
}

/** `enclave dashboard sessions`: who is logged in. */
export async function runDashboardSessions(home = enclaveHome()): Promise<void> {
  const { sessions = [] } = await ask({ action: 'sessions' }, home);
  if (sessions.length === 0) return out('No dashboard sessions.');
  for (const s of sessions) {
    out(`${s.id}  since ${new Date(s.createdAt).toISOString()}  last seen ${new Date(s.lastSeenAt).toISOString()}  expires ${new Date(s.expiresAt).toISOString()}  ${s.userAgent}`);
  }
}

/** `enclave dashboard revoke <id>|all`: ends sessions at once. */
export async function runDashboardRevoke(id: string, home = enclaveHome()): Promise<void> {
  const { revoked = 0 } = await ask({ action: 'revoke', id }, home);
  if (revoked === 0) fail(new Error(`no session starts with "${id}" (see: enclave dashboard sessions; ids need at least 4 characters)`));
  out(`Ended ${revoked} dashboard session${revoked === 1 ? '' : 's'}.`);
}

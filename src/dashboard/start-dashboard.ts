import type { Logger } from '../logger.js';
import { Dashboard } from './dashboard-server.js';
import { storeOperations, type StoreOperationsDeps } from './store-operations.js';

export interface DashboardWiring extends StoreOperationsDeps {
  secrets: () => readonly string[];
  log: Logger;
}

/**
 * Starts the dashboard when enclave.yaml enables it. A dashboard that cannot start (its port is taken)
 * is logged and left off: chat keeps working.
 */
export async function startDashboardIfEnabled(deps: DashboardWiring): Promise<Dashboard | undefined> {
  const config = deps.config().enclave.dashboard;
  if (!config.enabled) return undefined;
  try {
    const dashboard = await Dashboard.start({
      config,
      ops: storeOperations(deps),
      secrets: deps.secrets,
      whatsapp: () => deps.channels.has('whatsapp'),
      clock: deps.clock,
      log: deps.log,
    });
    deps.log.info({ url: dashboard.origin.origin }, 'dashboard listening (run `enclave dashboard` for a login link)');
    return dashboard;
  } catch (err) {
    deps.log.error({ err: (err as Error).message, host: config.host, port: config.port }, 'the dashboard could not start; chat keeps working without it');
    return undefined;
  }
}

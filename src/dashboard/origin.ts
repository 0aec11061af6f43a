import type { DashboardConfig } from '../config/schema.js';

/** The one origin the browser uses and the Host it must send (publicUrl behind a proxy, else host:port). */
export interface DashboardOrigin {
  origin: string;
  host: string;
  secure: boolean;
}

export function dashboardOrigin(config: DashboardConfig, boundPort: number): DashboardOrigin {
  if (config.publicUrl) {
    const url = new URL(config.publicUrl);
    return { origin: url.origin, host: url.host, secure: url.protocol === 'https:' };
  }
  const host = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${boundPort}`;
  return { origin: `http://${host}`, host, secure: false };
}

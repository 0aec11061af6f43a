import { isIP } from 'node:net';
import { z } from 'zod';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The owner's web dashboard: off unless enabled, loopback only unless allowRemote (behind TLS). */
export const dashboardSchema = z
  .object({
    enabled: z.boolean().default(false),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7420),
    /** Listen on a non-loopback address; needs publicUrl with https (a TLS reverse proxy in front). */
    allowRemote: z.boolean().default(false),
    /** The https:// address the browser uses behind the reverse proxy; login links, Host and Origin checks use it. */
    publicUrl: z.string().url().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (!d.allowRemote && !isLoopbackHost(d.host)) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: `${d.host} is reachable from other machines; use 127.0.0.1, or set allowRemote: true with publicUrl behind a TLS reverse proxy` });
    }
    if (d.allowRemote && !d.publicUrl?.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'allowRemote needs publicUrl: https://... (the TLS reverse proxy in front of the dashboard)' });
    }
  });

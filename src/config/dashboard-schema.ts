import { isIP } from 'node:net';
import { z } from 'zod';

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Addresses that mean "every interface": never a deliberate choice of who may connect. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']);

/** Why a publicUrl is unfit, or undefined: https, or http only to this machine. */
function publicUrlProblem(text: string): string | undefined {
  const url = new URL(text);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(host)) return undefined;
  return `publicUrl must start with https:// (or http:// to this machine only), not ${url.protocol}`;
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
    if (d.allowRemote && WILDCARD_HOSTS.has(d.host)) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: `${d.host} listens on every interface; name the one address your TLS reverse proxy connects to (127.0.0.1 when it runs on this machine)` });
    }
    const urlProblem = d.publicUrl === undefined ? undefined : publicUrlProblem(d.publicUrl);
    if (urlProblem) ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: urlProblem });
    if (d.allowRemote && !d.publicUrl?.startsWith('https://')) {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'allowRemote needs publicUrl: https://... (the TLS reverse proxy in front of the dashboard)' });
    }
  });

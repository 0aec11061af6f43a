import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { DashboardOrigin } from './origin.js';
import { scrubSecrets } from './scrub.js';
import { sameToken } from './secret-token.js';
import type { Session, Sessions } from './sessions.js';

export const SESSION_COOKIE = 'enclave_session';
export const CSRF_FIELD = '_csrf';

export type DashboardEnv = { Variables: { session: Session } };

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** On every answer, whatever it is: no framing, no inline code, no referrer, no sniffing. */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('Content-Security-Policy', CSP);
  c.res.headers.set('X-Frame-Options', 'DENY');
  c.res.headers.set('Referrer-Policy', 'no-referrer');
  c.res.headers.set('X-Content-Type-Options', 'nosniff');
  c.res.headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  c.res.headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
};

/** DNS rebinding: a page on another name that resolves here sends that name as Host, and is refused. */
export function hostCheck(origin: DashboardOrigin): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.header('host') !== origin.host) return c.text('This dashboard answers only at its configured address.', 421);
    await next();
  };
}

/**
 * A request sent by a page of this dashboard: Origin (when sent) is ours, and the browser does not call
 * it cross-site. Under Referrer-Policy no-referrer a browser's own form post says `Origin: null`; that
 * counts only together with the browser's `Sec-Fetch-Site: same-origin`, which no page can forge.
 */
export function fromOurPages(c: Context, origin: DashboardOrigin, requireOrigin: boolean): boolean {
  const sent = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  if (sent === 'null') return site === 'same-origin';
  if (sent === undefined ? requireOrigin : sent !== origin.origin) return false;
  return site === undefined || site === 'same-origin';
}

/** Every page and API below this needs a live session; without one: 401 and nothing else. */
export function requireSession(sessions: Sessions): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    // A page on another local port can set a second cookie of this name (cookies ignore ports): refuse both.
    if (sessionCookieCount(c.req.header('cookie')) > 1) return c.text('Your browser sent two dashboard session cookies; another local web page may have set one. Clear this site\'s cookies and open a new link from `enclave dashboard`.', 400);
    const session = sessions.find(getCookie(c, SESSION_COOKIE));
    if (!session) return c.text('Not logged in. Run `enclave dashboard` on the host for a login link.', 401);
    c.set('session', session);
    await next();
  };
}

function sessionCookieCount(header: string | undefined): number {
  return (header ?? '').split(';').filter((pair) => pair.split('=')[0]!.trim() === SESSION_COOKIE).length;
}

/** Writes: Origin must be ours and the form must carry the session's CSRF token. */
export function writeCheck(origin: DashboardOrigin): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    if (!fromOurPages(c, origin, true)) return c.text('Refused: this change did not come from a dashboard page.', 403);
    const body = await c.req.parseBody();
    const token = body[CSRF_FIELD];
    if (typeof token !== 'string' || !sameToken(token, c.get('session').csrf)) return c.text('Refused: the form is stale or forged; reload the page and try again.', 403);
    await next();
  };
}

/** Removes every secret value (in each escaped form) from text and JSON answers: defence in depth. */
export function scrubAnswers(secrets: () => readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const type = c.res.headers.get('content-type') ?? '';
    if (!/^(text\/html|application\/json|text\/plain)/.test(type)) return;
    const values = secrets();
    if (values.length === 0) return;
    const text = scrubSecrets(await c.res.text(), values);
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(text, { status: c.res.status, headers });
  };
}

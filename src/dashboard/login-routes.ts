import type { Hono } from 'hono';
import { html } from 'hono/html';
import { setCookie } from 'hono/cookie';
import { fromOurPages, SESSION_COOKIE } from './guards.js';
import type { LoginTokens } from './login-tokens.js';
import type { DashboardOrigin } from './origin.js';
import { SESSION_TTL_MS, type Sessions } from './sessions.js';

const LOGIN_PAGE = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Enclave</title><link rel="stylesheet" href="/assets/dashboard.css"></head>
<body><main class="login"><h1>Enclave</h1><p id="login-state">Logging in…</p></main>
<script type="module" src="/assets/login.js"></script></body></html>`;

/** GET /login serves a page whose script reads the token from the fragment and POSTs it; the answer sets the session cookie. */
export function loginRoutes(app: Hono, deps: { origin: DashboardOrigin; tokens: LoginTokens; sessions: Sessions }): void {
  app.get('/login', (c) => c.html(LOGIN_PAGE));
  app.post('/login', async (c) => {
    if (!fromOurPages(c, deps.origin, true)) return c.json({ error: 'Refused: this login did not come from the dashboard page.' }, 403);
    const body = (await c.req.json().catch(() => ({}))) as { token?: unknown };
    if (typeof body.token !== 'string' || !deps.tokens.redeem(body.token)) {
      return c.json({ error: 'This login link was used already or has expired. Run `enclave dashboard` on the host for a new one.' }, 401);
    }
    const { cookie } = deps.sessions.open(c.req.header('user-agent') ?? '');
    setCookie(c, SESSION_COOKIE, cookie, { httpOnly: true, sameSite: 'Strict', path: '/', secure: deps.origin.secure, maxAge: SESSION_TTL_MS / 1000 });
    return c.json({ ok: true });
  });
}

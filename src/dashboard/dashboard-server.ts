import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock.js';
import type { DashboardConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { actionRoutes } from './action-routes.js';
import { apiRoutes } from './api-routes.js';
import { loadAssets } from './assets.js';
import type { DashboardControl } from './dashboard-control.js';
import { hostCheck, requireSession, scrubAnswers, securityHeaders, writeCheck, type DashboardEnv } from './guards.js';
import { LoginTokens } from './login-tokens.js';
import { loginRoutes } from './login-routes.js';
import type { DashboardOperations } from './operations.js';
import { dashboardOrigin, type DashboardOrigin } from './origin.js';
import { pageRoutes } from './page-routes.js';
import { Sessions, type SessionInfo } from './sessions.js';

export interface DashboardOptions {
  config: DashboardConfig;
  ops: DashboardOperations;
  /** Every secret value the host holds: scrubbed from every answer. */
  secrets: () => readonly string[];
  /** Whether the WhatsApp channel is on (the Access page then shows its QR). */
  whatsapp: () => boolean;
  clock: Clock;
  /** The host's logger (it scrubs secret values): a failed request is logged here, never on the console. */
  log: Logger;
  pollMs?: number;
}

/** The owner's web dashboard, running inside the host process. */
export class Dashboard implements DashboardControl {
  private constructor(
    private readonly server: Server,
    readonly origin: DashboardOrigin,
    private readonly tokens: LoginTokens,
    private readonly sessions: Sessions,
    private readonly closing: AbortController,
  ) {}

  static async start(opts: DashboardOptions): Promise<Dashboard> {
    const tokens = new LoginTokens(opts.clock);
    const sessions = new Sessions(opts.clock, (event) => opts.ops.recordSession(event));
    const closing = new AbortController();
    const assets = loadAssets();
    // The Host check needs the bound port, known once listening: the app reads it through this object.
    const origin: DashboardOrigin = { origin: '', host: '', secure: false };

    const app = new Hono<DashboardEnv>();
    app.use('*', securityHeaders);
    app.use('*', (c, next) => hostCheck(origin)(c, next));
    app.use('*', scrubAnswers(opts.secrets));
    app.use('*', bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('Request too large.', 413) }));
    app.get('/assets/:name', (c) => {
      const asset = assets.get(c.req.param('name'));
      if (!asset) return c.text('Not found.', 404);
      return c.body(new Uint8Array(asset.body), 200, { 'Content-Type': asset.type, 'Cache-Control': 'private, max-age=300' });
    });
    loginRoutes(app as unknown as Hono, { origin, tokens, sessions });
    app.use('*', requireSession(sessions));
    app.use('*', writeCheck(origin));
    pageRoutes(app, opts.ops, { whatsapp: opts.whatsapp, clock: opts.clock });
    apiRoutes(app, { ops: opts.ops, origin, sessions, secrets: opts.secrets, pollMs: opts.pollMs ?? 500, closing: closing.signal });
    actionRoutes(app, opts.ops, sessions);
    app.notFound((c) => c.text('Not found.', 404));
    app.onError((err, c) => {
      if (err instanceof HTTPException) return err.getResponse();
      opts.log.error({ err: err.message, path: c.req.path }, 'a dashboard request failed');
      return c.text('Something went wrong on the host. Its log says what; reload the page to try again.', 500);
    });

    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.config.port, opts.config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    Object.assign(origin, dashboardOrigin(opts.config, (server.address() as AddressInfo).port));
    return new Dashboard(server, origin, tokens, sessions, closing);
  }

  /** A one-time login link; the token rides in the fragment, so it never reaches a log or a Referer. */
  loginLink(): string {
    return `${this.origin.origin}/login#${this.tokens.issue()}`;
  }

  listSessions(): SessionInfo[] {
    return this.sessions.list();
  }

  revokeSessions(idPrefix: string): number {
    return idPrefix === 'all' ? this.sessions.revokeAll() : this.sessions.revoke(idPrefix);
  }

  async close(): Promise<void> {
    this.closing.abort();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

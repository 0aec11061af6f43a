import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { fromOurPages, SESSION_COOKIE, type DashboardEnv } from './guards.js';
import type { DashboardOperations } from './operations.js';
import type { DashboardOrigin } from './origin.js';
import { LiveFeed } from './live-feed.js';
import { scrubSecrets } from './scrub.js';
import type { Sessions } from './sessions.js';
import { qrSvg } from './whatsapp-qr.js';

const SPEND_DAYS = 14;

export interface ApiDeps {
  ops: DashboardOperations;
  origin: DashboardOrigin;
  sessions: Sessions;
  /** Every secret value the host holds: scrubbed from each event (the answer scrubber cannot see a stream). */
  secrets: () => readonly string[];
  /** How often the live stream looks for a change. */
  pollMs: number;
  /** Aborted when the dashboard closes: every open stream ends. */
  closing: AbortSignal;
}

/** JSON for the page scripts, the live stream and the WhatsApp QR image. */
export function apiRoutes(app: Hono<DashboardEnv>, deps: ApiDeps): void {
  const { ops } = deps;
  app.get('/api/overview', (c) => c.json(ops.overview()));
  app.get('/api/spend/daily', (c) => c.json(ops.dailySpend(SPEND_DAYS)));
  app.get('/api/whatsapp/qr.svg', (c) => {
    const qr = ops.whatsappQr();
    if (qr === undefined) return c.body(null, 204);
    return c.body(qrSvg(qr), 200, { 'Content-Type': 'image/svg+xml' });
  });
  // Server-sent events: the overview each time it changes. Origin is checked like a write's.
  const feed = new LiveFeed(() => scrubSecrets(JSON.stringify(ops.overview()), deps.secrets()), deps.pollMs);
  deps.closing.addEventListener('abort', () => feed.close());
  app.get('/api/events', (c) => {
    if (!fromOurPages(c, deps.origin, false)) return c.text('Refused: the live stream is for dashboard pages only.', 403);
    const sessionId = c.get('session').id;
    if (!feed.admit(sessionId)) return c.text('Too many live dashboard views are open; close some dashboard tabs and reload this one.', 429);
    const cookie = getCookie(c, SESSION_COOKIE);
    return streamSSE(c, async (stream) => {
      const stop = () => void stream.close();
      deps.closing.addEventListener('abort', stop);
      const unsubscribe = feed.subscribe((data) => void stream.writeSSE({ event: 'overview', data }).catch(() => undefined));
      try {
        while (!stream.aborted && !stream.closed && !deps.closing.aborted && deps.sessions.peek(cookie)) await stream.sleep(deps.pollMs);
      } finally {
        unsubscribe();
        feed.leave(sessionId);
        deps.closing.removeEventListener('abort', stop);
      }
    });
  });
}

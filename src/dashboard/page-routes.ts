import type { Context, Hono } from 'hono';
import type { AuditKind } from '../audit/types.js';
import type { DashboardEnv } from './guards.js';
import type { DashboardOperations } from './operations.js';
import { accessPage } from './pages/access-page.js';
import { AUDIT_KINDS, AUDIT_SINCE, auditPage } from './pages/audit-page.js';
import { groupsPage } from './pages/groups-page.js';
import { layout, PAGES, type Html, type PageFrame } from './pages/layout.js';
import { overviewPage } from './pages/overview-page.js';
import { spendPage } from './pages/spend-page.js';
import { tasksPage } from './pages/tasks-page.js';

const AUDIT_ROWS = 200;

/** The six pages, rendered on the server with every value escaped. */
export function pageRoutes(app: Hono<DashboardEnv>, ops: DashboardOperations, opts: { whatsapp: () => boolean; clock: () => number }): void {
  const render = (c: Context<DashboardEnv>, path: string, body: Html, extra: Partial<PageFrame> = {}) => {
    const session = c.get('session');
    const flash = session.flash;
    session.flash = undefined;
    const title = PAGES.find((p) => p.path === path)!.title;
    return c.html(layout({ title, path, sessionId: session.id.slice(0, 8), csrf: session.csrf, flash, ...extra }, body));
  };
  const csrf = (c: Context<DashboardEnv>) => c.get('session').csrf;

  app.get('/', (c) => render(c, '/', overviewPage(ops.overview(), csrf(c)), { scripts: ['overview.js'] }));
  app.get('/spend', (c) => render(c, '/spend', spendPage(ops.usage(), ops.audit(10, { kind: 'model_refused' }), ops.notices(10), csrf(c)), { scripts: ['spend.js'], vendorScripts: ['uPlot.iife.min.js'], styles: ['uPlot.min.css'] }));
  app.get('/audit', (c) => {
    const groups = ops.groups().map((g) => g.name);
    const group = c.req.query('group') || undefined;
    const kindText = c.req.query('kind');
    const kind = AUDIT_KINDS.find((k) => k === kindText) as AuditKind | undefined;
    const sinceText = c.req.query('since');
    const window = sinceText ? AUDIT_SINCE[sinceText] : undefined;
    const view = { rows: ops.audit(AUDIT_ROWS, { group, kind, since: window === undefined ? undefined : opts.clock() - window }), verdict: ops.auditChain() };
    return render(c, '/audit', auditPage(view, groups, { group, kind, since: window === undefined ? undefined : sinceText }));
  });
  app.get('/groups', (c) => render(c, '/groups', groupsPage(ops.groups(), ops.containerLimits())));
  app.get('/tasks', (c) => render(c, '/tasks', tasksPage(ops.tasks(), csrf(c))));
  app.get('/access', (c) => render(c, '/access', accessPage(ops.pairings(), csrf(c), opts.whatsapp()), { scripts: opts.whatsapp() ? ['access.js'] : [] }));
}

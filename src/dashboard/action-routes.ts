import type { Context, Hono } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { parseBudgetSetArgs } from '../ledger/limits.js';
import { SESSION_COOKIE, type DashboardEnv } from './guards.js';
import type { DashboardOperations, WriteResult } from './operations.js';
import type { Sessions } from './sessions.js';

/** Who a change is audited as: the dashboard session, by the start of its id. */
export const actorOf = (c: Context<DashboardEnv>): string => `dashboard:${c.get('session').id.slice(0, 8)}`;

async function field(c: Context<DashboardEnv>, name: string): Promise<string> {
  const value = (await c.req.parseBody())[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** The few changes the dashboard can make; each answers with a sentence on the page it came from. */
export function actionRoutes(app: Hono<DashboardEnv>, ops: DashboardOperations, sessions: Sessions): void {
  const done = (c: Context<DashboardEnv>, page: string, result: WriteResult) => {
    c.get('session').flash = result;
    return c.redirect(page, 303);
  };
  app.post('/actions/approve', async (c) => done(c, '/access', ops.approvePairing(await field(c, 'code'), actorOf(c))));
  app.post('/actions/revoke', async (c) => done(c, '/access', ops.revokePairing(await field(c, 'who'), actorOf(c))));
  app.post('/actions/task', async (c) => {
    const action = await field(c, 'action');
    const id = Number(await field(c, 'id'));
    if ((action !== 'pause' && action !== 'resume' && action !== 'cancel') || !Number.isSafeInteger(id)) return done(c, '/tasks', { ok: false, message: 'That is not a task change the dashboard knows.' });
    return done(c, '/tasks', ops.changeTask(id, action, actorOf(c)));
  });
  app.post('/actions/budget', async (c) => {
    const scope = await field(c, 'scope');
    const unit = (await field(c, 'unit')) === 'tokens' ? ['tokens'] : [];
    const parsed = parseBudgetSetArgs([...(scope ? [] : ['global']), await field(c, 'period'), ...unit, await field(c, 'amount')]);
    if (!parsed.ok) return done(c, '/spend', { ok: false, message: parsed.error.split('\n')[0]! });
    const { period, unit: u, amount } = parsed.change;
    return done(c, '/spend', ops.setBudget({ group: scope || undefined, period, unit: u, amount }, actorOf(c)));
  });
  app.post('/actions/stop-turn', async (c) => done(c, '/', ops.stopTurn(await field(c, 'group'), actorOf(c))));
  app.post('/logout', (c) => {
    sessions.logOut(c.get('session'));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login', 303);
  });
}

import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PairingStore } from '../../src/access/pairing-store.js';
import { LOGIN_TOKEN_TTL_MS } from '../../src/dashboard/login-tokens.js';
import { SESSION_IDLE_MS, SESSION_TTL_MS } from '../../src/dashboard/sessions.js';
import { logIn, REBIND_NAME, screenshot, startDashboardHost } from './dashboard-host.js';

const PAGES = ['/', '/spend', '/audit', '/groups', '/tasks', '/access'];
const APIS = ['/api/overview', '/api/spend/daily', '/api/whatsapp/qr.svg', '/api/events'];

/** One raw request, with whatever Host and Origin the caller says (as a non-browser attacker could). */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('the dashboard is locked to its owner: sessions, login tokens, Host, Origin, CSRF, CSP, escaping, no secrets', async (t) => {
  const host = await startDashboardHost(t);
  const { h, origin } = host;
  const page = await host.context.newPage();

  await t.test('without a session every page, API and write is 401 and carries no data', async () => {
    for (const path of [...PAGES, ...APIS]) {
      const res = await raw(`${origin}${path}`);
      assert.equal(res.status, 401, path);
      assert.doesNotMatch(res.body, /main|ops|telegram|VZ|model/i, `${path} shows nothing: ${res.body}`);
    }
    const write = await raw(`${origin}/actions/approve`, { method: 'POST', headers: { origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `code=${host.strangerCode}` });
    assert.equal(write.status, 401);
    assert.equal(new PairingStore(h.app.db, host.now).list().find((p) => p.code === host.strangerCode)?.status, 'pending');
  });

  await t.test('a used login link is refused, and so is one older than ten minutes', async () => {
    const link = await host.loginLink();
    await page.goto(link);
    await page.waitForURL(`${origin}/`);
    await page.context().clearCookies();
    await page.goto('about:blank');
    await page.goto(link);
    await page.waitForFunction(() => /used already or has expired/.test(document.getElementById('login-state')?.textContent ?? ''));
    assert.equal((await host.context.cookies(origin)).length, 0, 'no session from a used link');
    await screenshot(page, 'login-refused');

    const late = await host.loginLink();
    host.advance(LOGIN_TOKEN_TTL_MS + 1000);
    await page.goto('about:blank');
    await page.goto(late);
    await page.waitForFunction(() => /used already or has expired/.test(document.getElementById('login-state')?.textContent ?? ''));
    assert.equal((await host.context.cookies(origin)).length, 0, 'no session from an expired link');
  });

  await t.test('sessions are listed, revoked at once, and expire', async () => {
    await logIn(host, page);
    const { sessions } = await host.control({ action: 'sessions' });
    assert.ok(sessions && sessions.length >= 1);
    const newest = sessions.reduce((a, b) => (a.createdAt >= b.createdAt ? a : b));
    assert.equal((await page.goto(`${origin}/groups`))?.status(), 200);
    const listed = await host.cli('sessions');
    assert.ok(listed.stdout.includes(newest.id), listed.stdout);
    const revoked = await host.cli('revoke', newest.id.slice(0, 6));
    assert.match(revoked.stdout, /Ended 1 dashboard session\./);
    assert.equal((await page.goto(`${origin}/groups`))?.status(), 401);

    await logIn(host, page);
    host.advance(SESSION_IDLE_MS + 1000);
    assert.equal((await page.goto(`${origin}/groups`))?.status(), 401, 'a session idle for half an hour is refused');
    await logIn(host, page);
    host.advance(SESSION_TTL_MS + 1000);
    assert.equal((await page.goto(`${origin}/groups`))?.status(), 401, 'an expired session is refused');
    await logIn(host, page);
    const kinds = host.h.app.audit.tail(50, { kind: 'access_change' }).map((r) => (r.detail as { action?: string }).action);
    assert.ok(kinds.includes('dashboard_login') && kinds.includes('dashboard_revoked'), `logins and revocations are audited: ${kinds.join(', ')}`);
  });

  await t.test('the Log out button ends the session at once, and the logout is audited', async () => {
    await logIn(host, page);
    const cookieBefore = (await host.context.cookies(origin)).find((c) => c.name === 'enclave_session')?.value;
    assert.ok(cookieBefore);
    await Promise.all([page.waitForURL(`${origin}/login`), page.click('#logout button')]);
    assert.equal((await host.context.cookies(origin)).some((c) => c.name === 'enclave_session'), false, 'the cookie is gone');
    const replay = await raw(`${origin}/groups`, { headers: { cookie: `enclave_session=${cookieBefore}` } });
    assert.equal(replay.status, 401, 'the old cookie no longer works');
    const actions = host.h.app.audit.tail(20, { kind: 'access_change' }).map((r) => (r.detail as { action?: string }).action);
    assert.ok(actions.includes('dashboard_logout'), actions.join(', '));
    await logIn(host, page);
  });

  await t.test('`enclave dashboard` warns that other local web apps can reach the session cookie', async () => {
    const { stdout } = await host.cli();
    assert.match(stdout, /other web apps on this machine/);
  });

  await t.test('DNS rebinding: the dashboard reached under another name is refused, in the browser and raw', async () => {
    const other = await host.context.newPage();
    const res = await other.goto(origin.replace('127.0.0.1', REBIND_NAME));
    assert.equal(res?.status(), 421);
    assert.doesNotMatch((await other.content()), /ops|telegram/);
    await other.close();
    const rawRes = await raw(`${origin}/api/overview`, { headers: { host: 'evil.example' } });
    assert.equal(rawRes.status, 421);
  });

  await t.test('a cross-site form post from a second origin\'s page fails, and so does a forged Origin or a missing CSRF token', async (t) => {
    const mallory = new PairingStore(h.app.db, host.now).request('telegram', '5555', 'Mallory');
    assert.equal(mallory.kind, 'new');
    const code = mallory.kind === 'new' ? mallory.pairing.code : '';
    const attacker = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><form id="f" method="post" action="${origin}/actions/approve"><input name="code" value="${code}"><input name="_csrf" value="guess"></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    t.after(() => void attacker.close());
    const evil = await host.context.newPage();
    const answer = evil.waitForResponse((r) => r.url() === `${origin}/actions/approve`);
    await evil.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    assert.equal((await answer).status(), 403);
    await evil.close();
    assert.equal(new PairingStore(h.app.db, host.now).list().find((p) => p.code === code)?.status, 'pending', 'the attacker\'s post changed nothing');

    // The session cookie of the logged-in page, used from outside a browser: a right Origin without the CSRF token fails too.
    const cookie = (await host.context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const noToken = await raw(`${origin}/actions/approve`, { method: 'POST', headers: { cookie, host: new URL(origin).host, origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `code=${code}` });
    assert.equal(noToken.status, 403);
    // Even with the session's real CSRF token, another Origin (or a cross-site fetch) is refused.
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await raw(`${origin}/access`, { headers: { cookie } })).body)?.[1];
    assert.ok(csrf);
    const form = { method: 'POST', body: `code=${code}&_csrf=${encodeURIComponent(csrf)}` };
    const forged = await raw(`${origin}/actions/approve`, { ...form, headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(forged.status, 403);
    const crossSite = await raw(`${origin}/actions/approve`, { ...form, headers: { cookie, origin: 'null', 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(crossSite.status, 403);
    const stream = await raw(`${origin}/api/events`, { headers: { cookie, origin: 'http://evil.example' } });
    assert.equal(stream.status, 403, 'the live stream checks Origin');
    assert.equal(new PairingStore(h.app.db, host.now).list().find((p) => p.code === code)?.status, 'pending');
  });

  await t.test('headers: strict CSP, no framing, no referrer, API answers not cached', async () => {
    const cookie = (await host.context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    for (const path of [...PAGES, '/api/overview', '/login']) {
      const res = await raw(`${origin}${path}`, { headers: { cookie } });
      assert.equal(res.status, 200, path);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.doesNotMatch(res.body, /<script(?![^>]*\bsrc="\/assets\/)[^>]*>/, `${path}: no inline script`);
      assert.doesNotMatch(res.body, /https?:\/\/(?!127\.0\.0\.1|www\.w3\.org)/, `${path}: no remote origin`);
    }
  });

  await t.test('CSP blocks a script injected into a page, inline or from another origin', async () => {
    await page.goto(`${origin}/`);
    const violations = await page.evaluate(async (evilOrigin) => {
      const seen: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
      const inline = document.createElement('script');
      inline.textContent = 'window.__injected = 1';
      document.body.append(inline);
      const remote = document.createElement('script');
      remote.src = `${evilOrigin}/x.js`;
      document.body.append(remote);
      const div = document.createElement('div');
      div.innerHTML = '<img src="x" onerror="window.__injected = 2">';
      document.body.append(div);
      await new Promise((r) => setTimeout(r, 500));
      return { seen, injected: (window as unknown as { __injected?: number }).__injected };
    }, 'http://127.0.0.1:9');
    assert.equal(violations.injected, undefined);
    assert.ok(violations.seen.some((d) => d.startsWith('script-src')), `violations: ${violations.seen.join(', ')}`);
  });

  await t.test('no page or API answer carries a secret value (the provider key canary, the Telegram token)', async () => {
    for (const path of PAGES) await page.goto(`${origin}${path}`);
    await page.goto(`${origin}/audit?group=ops`);
    const cookie = (await host.context.cookies(origin)).map((c) => `${c.name}=${c.value}`).join('; ');
    const answers = [...host.answers];
    for (const path of [...PAGES, '/api/overview', '/api/spend/daily', '/api/whatsapp/qr.svg']) answers.push({ url: path, body: (await raw(`${origin}${path}`, { headers: { cookie } })).body });
    assert.ok(answers.length > 10);
    assert.ok(answers.some((a) => a.body.includes('[redacted]')), 'the key an agent wrote into memory was found and scrubbed');
    for (const secret of [h.canary, host.fake.token]) {
      const leaks = answers.filter((a) => a.body.includes(secret)).map((a) => a.url);
      assert.deepEqual(leaks, [], `secret found in ${leaks.join(', ')}`);
    }
  });
});

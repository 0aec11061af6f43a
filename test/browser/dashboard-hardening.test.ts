import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstEvent, PLAIN_SECRET, QUOTED_SECRET, startFakeDashboard } from './fake-dashboard.js';

const leaks = (text: string) => [QUOTED_SECRET, PLAIN_SECRET].filter((s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)));

test('the live stream scrubs every secret value from its events', async (t) => {
  const fake = await startFakeDashboard(t);
  const event = await firstEvent(fake.origin, await fake.login());
  assert.match(event, /event: overview/);
  assert.match(event, /\[redacted\]/);
  assert.deepEqual(leaks(event), []);
});

test('the Audit page scrubs a secret with quotes, which it shows JSON-escaped and then HTML-escaped', async (t) => {
  const fake = await startFakeDashboard(t);
  const page = await (await fetch(`${fake.origin}/audit`, { headers: { cookie: await fake.login() } })).text();
  assert.match(page, /\[redacted\]/);
  const htmlOfJson = JSON.stringify(QUOTED_SECRET).slice(1, -1).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  assert.equal(page.includes(htmlOfJson), false);
  assert.equal(page.includes('sk-canary'), false);
  assert.deepEqual(leaks(page), []);
});

test('a page that fails is logged through the host logger with secrets scrubbed, never on the console, and answers a plain sentence', async (t) => {
  const fake = await startFakeDashboard(t);
  const cookie = await fake.login();
  const consoleLines: string[] = [];
  t.mock.method(console, 'error', (...args: unknown[]) => void consoleLines.push(args.map(String).join(' ')));
  fake.failWith(new Error(`provider said: bad key ${PLAIN_SECRET}`));
  const res = await fetch(`${fake.origin}/groups`, { headers: { cookie } });
  const body = await res.text();
  assert.equal(res.status, 500);
  assert.match(body, /Something went wrong on the host/);
  assert.deepEqual(leaks(body), []);
  assert.deepEqual(consoleLines, [], 'nothing raw on the console');
  assert.match(fake.logText(), /a dashboard request failed/);
  assert.match(fake.logText(), /provider said: bad key \[redacted\]/);
  assert.deepEqual(leaks(fake.logText()), []);
});

test('a request carrying two session cookies (one tossed in by a page on another local port) is refused', async (t) => {
  const fake = await startFakeDashboard(t);
  const cookie = await fake.login();
  const ok = await fetch(`${fake.origin}/groups`, { headers: { cookie } });
  assert.equal(ok.status, 200);
  for (const both of [`enclave_session=attacker; ${cookie}`, `${cookie}; enclave_session=attacker`]) {
    const res = await fetch(`${fake.origin}/groups`, { headers: { cookie: both } });
    assert.equal(res.status, 400, both);
    assert.match(await res.text(), /two dashboard session cookies/);
  }
  assert.deepEqual(fake.sessionEvents.map((e) => e.action), ['dashboard_login']);
});

test('live streams are capped: four per session, sixteen in all', async (t) => {
  const fake = await startFakeDashboard(t);
  const open: AbortController[] = [];
  t.after(() => open.forEach((ac) => ac.abort()));
  const stream = async (cookie: string) => {
    const ac = new AbortController();
    open.push(ac);
    const res = await fetch(`${fake.origin}/api/events`, { headers: { cookie }, signal: ac.signal });
    if (res.status !== 200) ac.abort();
    return res.status;
  };
  const first = await fake.login();
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push(await stream(first));
  assert.deepEqual(statuses, [200, 200, 200, 200, 429], 'four per session');
  for (let s = 0; s < 3; s++) {
    const cookie = await fake.login();
    for (let i = 0; i < 4; i++) assert.equal(await stream(cookie), 200);
  }
  assert.equal(await stream(await fake.login()), 429, 'sixteen in all');
});

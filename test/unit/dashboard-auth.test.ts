import assert from 'node:assert/strict';
import { test } from 'node:test';
import { enclaveConfigSchema } from '../../src/config/schema.js';
import { answerDashboardControl } from '../../src/dashboard/dashboard-control.js';
import { LOGIN_TOKEN_TTL_MS, LoginTokens } from '../../src/dashboard/login-tokens.js';
import { SESSION_IDLE_MS, SESSION_TTL_MS, Sessions, type SessionEvent } from '../../src/dashboard/sessions.js';

test('a login token works once, and not after ten minutes', () => {
  let now = 1_000_000;
  const tokens = new LoginTokens(() => now);
  const first = tokens.issue();
  assert.equal(tokens.redeem(first), true);
  assert.equal(tokens.redeem(first), false, 'single use');
  const late = tokens.issue();
  now += LOGIN_TOKEN_TTL_MS;
  assert.equal(tokens.redeem(late), false, 'expired at ten minutes');
  assert.equal(tokens.redeem('made-up'), false);
});

test('sessions: found by cookie only, listed without their CSRF token, revoked by id prefix, expired after their lifetime', () => {
  let now = 5_000_000;
  const sessions = new Sessions(() => now);
  const a = sessions.open('browser A');
  const b = sessions.open('browser B');
  assert.equal(sessions.find(a.cookie)?.id, a.session.id);
  assert.equal(sessions.find(a.session.id), undefined, 'the public id is not a cookie');
  assert.equal(sessions.find(undefined), undefined);
  assert.ok(sessions.list().every((s) => !('csrf' in s)));
  assert.equal(sessions.revoke(a.session.id.slice(0, 3)), 0, 'a prefix needs four characters');
  assert.equal(sessions.revoke(a.session.id.slice(0, 6)), 1);
  assert.equal(sessions.find(a.cookie), undefined);
  now += SESSION_TTL_MS;
  assert.equal(sessions.find(b.cookie), undefined, 'expired');
  assert.deepEqual(sessions.list(), []);
});

test('dashboard config: off and on loopback by default; another address needs allowRemote and an https publicUrl', () => {
  const parse = (dashboard: unknown) => enclaveConfigSchema.safeParse({ dashboard });
  const defaults = enclaveConfigSchema.parse({}).dashboard;
  assert.deepEqual(defaults, { enabled: false, host: '127.0.0.1', port: 7420, allowRemote: false });
  assert.equal(parse({ enabled: true, host: '0.0.0.0' }).success, false);
  assert.equal(parse({ enabled: true, host: '0.0.0.0', allowRemote: true }).success, false, 'no TLS in front');
  assert.equal(parse({ enabled: true, host: '0.0.0.0', allowRemote: true, publicUrl: 'http://enclave.example.com' }).success, false);
  assert.equal(parse({ enabled: true, host: '10.0.0.5', allowRemote: true, publicUrl: 'https://enclave.example.com' }).success, true);
  assert.equal(parse({ enabled: true, host: '::1' }).success, true);
  assert.equal(parse({ enabled: true, host: '127.0.0.2' }).success, true);
});

test('`enclave dashboard` against a host whose dashboard is off says how to turn it on', () => {
  assert.match(answerDashboardControl(undefined, { action: 'login' }).error ?? '', /dashboard\.enabled: true/);
});

test('sessions end after half an hour without a request, within their lifetime; the live stream does not keep one alive', () => {
  let now = 1_000_000;
  const sessions = new Sessions(() => now);
  const { cookie } = sessions.open('browser');
  now += SESSION_IDLE_MS - 1000;
  assert.ok(sessions.find(cookie), 'used within half an hour');
  now += SESSION_IDLE_MS - 1000;
  assert.ok(sessions.peek(cookie), 'the stream looks without touching');
  now += 2000;
  assert.equal(sessions.find(cookie), undefined, 'idle for half an hour');
  assert.deepEqual(sessions.list(), []);
});

test('every login, logout and revocation is recorded, with the User-Agent stripped of control characters', () => {
  const events: SessionEvent[] = [];
  const sessions = new Sessions(() => 1_000_000, (e) => void events.push(e));
  const a = sessions.open('Mozilla\r\n\u001b[31mfake line\u0007');
  const b = sessions.open('browser B');
  const c = sessions.open('browser C');
  sessions.logOut(a.session);
  sessions.revoke(b.session.id);
  sessions.revokeAll();
  assert.equal(a.session.userAgent, 'Mozilla[31mfake line');
  assert.deepEqual(events.map((e) => [e.action, e.sessionId]), [
    ['dashboard_login', a.session.id], ['dashboard_login', b.session.id], ['dashboard_login', c.session.id],
    ['dashboard_logout', a.session.id], ['dashboard_revoked', b.session.id], ['dashboard_revoked', c.session.id],
  ]);
  assert.equal(sessions.find(a.cookie), undefined);
});

test('dashboard config refuses a bind to every interface and a publicUrl that is not https (unless it points at this machine)', () => {
  const ok = (dashboard: unknown) => enclaveConfigSchema.safeParse({ dashboard }).success;
  const https = 'https://enclave.example.com';
  assert.equal(ok({ enabled: true, host: '0.0.0.0', allowRemote: true, publicUrl: https }), false, 'every IPv4 interface');
  assert.equal(ok({ enabled: true, host: '::', allowRemote: true, publicUrl: https }), false, 'every IPv6 interface');
  assert.equal(ok({ enabled: true, publicUrl: 'javascript:alert(1)//' }), false);
  assert.equal(ok({ enabled: true, publicUrl: 'http://enclave.example.com' }), false, 'plain http to another machine, even without allowRemote');
  assert.equal(ok({ enabled: true, publicUrl: 'ftp://enclave.example.com' }), false);
  assert.equal(ok({ enabled: true, publicUrl: 'http://127.0.0.1:8080' }), true);
  assert.equal(ok({ enabled: true, publicUrl: 'http://[::1]:8080' }), true);
  assert.equal(ok({ enabled: true, publicUrl: https }), true, 'a TLS proxy on this machine in front of a loopback dashboard');
});

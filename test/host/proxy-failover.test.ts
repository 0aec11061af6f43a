import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { AuditEntry } from '../../src/audit/types.js';
import type { GroupConfig } from '../../src/config/groups.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import type { BudgetRefusal } from '../../src/ledger/types.js';
import { silentLogger } from '../../src/logger.js';
import { errors as undiciErrors } from 'undici';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { provesNeverSent } from '../../src/proxy/upstream-call.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { serveProxy } from '../helpers/proxy-server.js';

const COOLDOWN_MS = 60_000;
const cheap = { input: 1, output: 1 };

interface RigOptions {
  group?: GroupConfig;
  /** Providers besides the fake's: a serves `primary`, b serves the rest. */
  providers?: (fakeUrl: string) => ProviderConfig[];
}

interface Cost {
  provider: string;
  model: string;
  outcome: string;
  reserved: number;
  charged: number;
}

async function startRig(t: TestContext, opts: RigOptions = {}) {
  const model = await FakeModel.start();
  const group = opts.group ?? testGroup({ name: 'g', model: 'primary', fallbacks: ['fallback', 'third'] });
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const used: string[] = [];
  const refusals: BudgetRefusal[] = [];
  let now = Date.UTC(2030, 0, 15, 12);
  const providers: ProviderConfig[] = opts.providers?.(model.baseUrl) ?? [
    { name: 'a', baseUrl: model.baseUrl, models: ['primary'], prices: { primary: cheap }, timeoutSeconds: 5 },
    { name: 'b', baseUrl: model.baseUrl, prices: { fallback: cheap, third: cheap }, timeoutSeconds: 5 },
  ];
  const proxy = createModelProxy({
    groups: () => new Map([[group.name, group]]),
    providers: () => providers,
    globalPrices: () => ({}),
    secret: () => undefined,
    ledger: new SqliteLedger({ db, groupLimits: () => group.budget, globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => now }),
    audit: { append: (e) => audit.push(e) },
    cooldownMs: COOLDOWN_MS,
    clock: () => now,
    log: silentLogger(),
    onModelUsed: (_g, m, p) => used.push(`${m}@${p}`),
    onBudgetRefused: (_g, r) => refusals.push(r),
  });
  const url = `${(await serveProxy(t, proxy, model, db)).base(group.name)}/chat/completions`;
  return {
    model,
    audit,
    used,
    refusals,
    advance: (ms: number) => (now += ms),
    settles: () => db.prepare("SELECT model, provider, outcome, micros FROM ledger WHERE kind = 'settle' ORDER BY id").all() as { model: string; provider: string; outcome: string; micros: number }[],
    /** Each attempt's reservation and what its settlement charged, in the order they were made. */
    costs: () =>
      db.prepare(
        `SELECT r.provider, r.model, s.outcome, r.micros AS reserved, s.micros AS charged
         FROM ledger r JOIN ledger s ON s.reservation_id = r.reservation_id AND s.kind = 'settle'
         WHERE r.kind = 'reserve' ORDER BY r.id`,
      ).all() as Cost[],
    ask: async (model = 'primary') => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) });
      return { status: res.status, body: (await res.json()) as { choices?: { message: { content: string } }[]; error?: { code: string; message: string } } };
    },
  };
}

const answerOf = (r: { body: { choices?: { message: { content: string } }[] } }) => r.body.choices?.[0]?.message.content;

test('a 500 from the primary is answered by the fallback: one answer, and the fallback is reported as the model used', async (t) => {
  const rig = await startRig(t);
  rig.model.pushFor('primary', { status: 500, body: { error: { message: 'boom' } } });
  rig.model.pushFor('fallback', { content: 'from the fallback' });
  const res = await rig.ask();
  assert.equal(res.status, 200);
  assert.equal(answerOf(res), 'from the fallback');
  assert.deepEqual(rig.used, ['fallback@b']);
  assert.deepEqual(rig.model.requests.map((r) => r.body.model), ['primary', 'fallback']);
  assert.deepEqual(rig.settles().map((s) => [s.model, s.outcome, s.micros]), [['primary', 'failed', 0], ['fallback', 'ok', 17]]);
  assert.deepEqual(rig.audit.filter((e) => e.kind === 'model_call').map((e) => [e.detail.model, e.detail.outcome, e.detail.status]), [['primary', 'failed', 500], ['fallback', 'ok', 200]]);
});

test('a 429 puts the primary on cooldown: the next call goes straight to the fallback until the cooldown ends', async (t) => {
  const rig = await startRig(t);
  rig.model.pushFor('primary', { status: 429, body: { error: { message: 'slow down' } } });
  assert.equal(answerOf(await rig.ask()), 'fake model reply');
  assert.equal(rig.model.requestsFor('primary').length, 1);

  rig.advance(COOLDOWN_MS - 1);
  const during = await rig.ask();
  assert.equal(during.status, 200);
  assert.equal(rig.model.requestsFor('primary').length, 1, 'the primary is skipped while cooling down');
  assert.equal(rig.model.requestsFor('fallback').length, 2);

  rig.advance(1);
  rig.model.pushFor('primary', { content: 'primary is back' });
  assert.equal(answerOf(await rig.ask()), 'primary is back');
  assert.equal(rig.model.requestsFor('primary').length, 2, 'after the cooldown the primary is tried again');
  assert.deepEqual(rig.used, ['fallback@b', 'fallback@b', 'primary@a']);
});

test('a timeout and a connection error fail over too; when every model fails the agent gets one host-written error', async (t) => {
  const closed = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const rig = await startRig(t, {
    providers: (url): ProviderConfig[] => [
      // Below the config minimum of 1 s, so the test does not wait long.
      { name: 'slow', baseUrl: url, models: ['primary'], prices: { primary: cheap }, timeoutSeconds: 0.2 },
      { name: 'down', baseUrl: `http://127.0.0.1:${closed}/v1`, models: ['fallback'], prices: { fallback: cheap }, timeoutSeconds: 5 },
      { name: 'b', baseUrl: url, prices: { third: cheap }, timeoutSeconds: 5 },
    ],
  });
  rig.model.pushFor('primary', { content: 'too late', delayMs: 2_000 });
  rig.model.pushFor('third', { content: 'third time lucky' });
  const res = await rig.ask();
  assert.equal(answerOf(res), 'third time lucky');
  assert.deepEqual(rig.settles().map((s) => [s.provider, s.outcome]), [['slow', 'failed'], ['down', 'failed'], ['b', 'ok']]);
  assert.deepEqual(rig.audit.filter((e) => e.detail.outcome === 'failed').map((e) => e.detail.reason), ['timeout', 'unreachable']);
  const [timedOut, refused, answered] = rig.costs();
  assert.equal(timedOut!.charged, timedOut!.reserved, 'the provider had the request when it timed out: the reservation is charged');
  assert.ok(timedOut!.charged > 0);
  assert.equal(refused!.charged, 0, 'a refused connection never carried the request: nothing is charged');
  assert.equal(answered!.charged, 17);
  assert.deepEqual(rig.audit.filter((e) => e.kind === 'model_call').map((e) => e.detail.charged), ['reservation', 'nothing', 'usage']);

  rig.advance(COOLDOWN_MS);
  rig.model.pushFor('primary', { status: 503, body: {} });
  rig.model.pushFor('third', { dropConnection: true });
  const failed = await rig.ask();
  assert.equal(failed.status, 502);
  assert.equal(failed.body.error!.code, 'upstream_failed');
  const message = failed.body.error!.message;
  assert.match(message, /provider slow had an internal error answering for primary/);
  assert.match(message, /provider down is unreachable/);
  assert.match(message, /provider b closed the connection for third before answering/);
  assert.ok(!message.includes('127.0.0.1'), 'no upstream address in the message');
  const [answered503, refusedAgain, dropped] = rig.costs().slice(3);
  assert.equal(answered503!.charged, 0, 'an error answer without usage is not billed');
  assert.equal(refusedAgain!.charged, 0);
  assert.equal(dropped!.model, 'third');
  assert.equal(dropped!.charged, dropped!.reserved, 'a connection dropped after the request was sent: the reservation is charged');
  const ending = rig.audit.filter((e) => e.kind === 'model_refused');
  assert.deepEqual(ending.map((e) => [e.detail.reason, e.detail.model, e.detail.tried]), [['upstream_failed', 'primary', 3]], 'how the call ended is audited once');
});

test('an error answer is charged the usage its body reports, else nothing', async (t) => {
  const rig = await startRig(t);
  rig.model.pushFor('primary', { status: 500, body: { error: { message: 'failed mid-generation' }, usage: { prompt_tokens: 30, completion_tokens: 2 } } });
  rig.model.pushFor('fallback', { status: 429, body: { error: { message: 'slow down', usage: { prompt_tokens: 'many' } } } });
  rig.model.pushFor('third', { content: 'from third' });
  assert.equal(answerOf(await rig.ask()), 'from third');
  assert.deepEqual(
    rig.costs().map((c) => [c.model, c.outcome, c.charged]),
    [['primary', 'failed', 32], ['fallback', 'failed', 0], ['third', 'ok', 17]],
  );
  const calls = rig.audit.filter((e) => e.kind === 'model_call');
  assert.deepEqual(calls.map((e) => [e.detail.status, e.detail.charged, e.detail.inputTokens]), [[500, 'usage', 30], [429, 'nothing', 0], [200, 'usage', 12]]);
});

test('only errors that prove the request never left count as never sent', () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  for (const err of [
    coded('ECONNREFUSED'),
    coded('ENOTFOUND'),
    coded('EAI_AGAIN'),
    new undiciErrors.ConnectTimeoutError(),
    new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }),
    Object.assign(new AggregateError([coded('ECONNREFUSED'), coded('ENETUNREACH')]), { code: 'ECONNREFUSED' }),
  ]) {
    assert.equal(provesNeverSent(err), true, String((err as { code?: string }).code ?? err.message));
  }
  for (const err of [
    new undiciErrors.HeadersTimeoutError(),
    new undiciErrors.SocketError('other side closed'),
    coded('ECONNRESET'),
    coded('EPIPE'),
    new Error('no code at all'),
    'not an error',
    new TypeError('fetch failed', { cause: coded('ECONNRESET') }),
    new AggregateError([coded('ECONNREFUSED'), coded('ECONNRESET')]),
  ]) {
    assert.equal(provesNeverSent(err), false, String(err));
  }
});

test('no model available: no key and no provider are refused with 503, audited, and nothing is reserved', async (t) => {
  const group = testGroup({ name: 'g', model: 'primary', fallbacks: ['fallback'] });
  const rig = await startRig(t, {
    group,
    providers: (url): ProviderConfig[] => [
      { name: 'keyless', baseUrl: url, secret: 'NOT_SET', models: ['primary'], prices: { primary: cheap }, timeoutSeconds: 5 },
      { name: 'other', baseUrl: url, models: ['something-else'], prices: {}, timeoutSeconds: 5 },
    ],
  });
  const res = await rig.ask();
  assert.equal(res.status, 503);
  assert.equal(res.body.error!.code, 'no_model_available');
  assert.match(res.body.error!.message, /provider keyless has no key set on the host/);
  assert.match(res.body.error!.message, /no provider is configured for model fallback/);
  assert.equal(rig.model.requests.length, 0);
  assert.deepEqual(rig.costs(), []);
  assert.deepEqual(rig.audit.map((e) => [e.kind, e.group, e.actor, e.detail.reason, e.detail.model]), [['model_refused', 'g', 'agent:g', 'no_model_available', 'primary']]);
});

test('a budget refusal never falls through to the next model', async (t) => {
  const group = testGroup({ name: 'g', model: 'primary', fallbacks: ['fallback'], budget: { dailyUsd: 0.01 } });
  const rig = await startRig(t, {
    group,
    providers: (url): ProviderConfig[] => [
      // The primary's worst case (4096 output tokens at $100/M) is over $0.01; the fallback is free.
      { name: 'a', baseUrl: url, models: ['primary'], prices: { primary: { input: 100, output: 100 } }, timeoutSeconds: 5 },
      { name: 'b', baseUrl: url, prices: { fallback: { input: 0, output: 0 } }, timeoutSeconds: 5 },
    ],
  });
  const res = await rig.ask();
  assert.equal(res.status, 402);
  assert.equal(res.body.error!.code, 'budget_exceeded');
  assert.equal(res.body.error!.message, rig.refusals[0]!.message, 'the agent gets the ledger\'s sentence');
  assert.equal(rig.model.requests.length, 0, 'neither the primary nor the fallback was called');
  assert.equal(rig.refusals.length, 1);
  const refused = rig.audit.filter((e) => e.kind === 'model_refused');
  assert.deepEqual(refused.map((e) => [e.detail.reason, e.detail.model]), [['budget', 'primary']]);

  const direct = await rig.ask('fallback');
  assert.equal(answerOf(direct), 'fake model reply', 'asking for the free model directly is fine');
});

test('other 4xx errors are not failed over; asking for a fallback starts the chain there', async (t) => {
  const rig = await startRig(t);
  rig.model.pushFor('primary', { status: 400, body: { error: { message: 'bad request' } } });
  const res = await rig.ask();
  assert.equal(res.status, 400);
  assert.match(res.body.error!.message, /provider a rejected the request for primary/);
  assert.equal(rig.model.requests.length, 1);

  rig.model.pushFor('fallback', { status: 500, body: {} });
  rig.model.pushFor('third', { content: 'from third' });
  assert.equal(answerOf(await rig.ask('fallback')), 'from third');
  assert.deepEqual(rig.model.requests.map((r) => r.body.model), ['primary', 'fallback', 'third'], 'the primary is not asked again');
});

test('when every model is cooling down, the one whose cooldown ends first is still tried', async (t) => {
  const group = testGroup({ name: 'g', model: 'primary' });
  const rig = await startRig(t, { group });
  rig.model.pushFor('primary', { status: 429, body: {} });
  const limited = await rig.ask();
  assert.equal(limited.status, 429, 'a lone rate-limited model passes the 429 on');
  assert.equal(limited.body.error!.code, 'upstream_rate_limited');
  rig.advance(1_000);
  assert.equal(answerOf(await rig.ask()), 'fake model reply', 'a group with one model is not shut out for the whole cooldown');
  assert.equal(rig.model.requestsFor('primary').length, 2);
});

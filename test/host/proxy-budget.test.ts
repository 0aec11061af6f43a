import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { AuditEntry } from '../../src/audit/types.js';
import type { GroupConfig } from '../../src/config/groups.js';
import type { BudgetLimits, ProviderConfig } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import type { PriceTable } from '../../src/ledger/pricing.js';
import { promptTokenBound } from '../../src/ledger/prompt-bound.js';
import type { BudgetRefusal } from '../../src/ledger/types.js';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { serveProxy } from '../helpers/proxy-server.js';

const NOON = Date.UTC(2030, 5, 10, 12);

interface RigOptions {
  groups: GroupConfig[];
  providers: (fakeUrl: string) => ProviderConfig[];
  globalPrices?: PriceTable;
  globalLimits?: () => BudgetLimits;
  maxConcurrentCallsPerGroup?: number;
}

interface LedgerRow {
  reservation_id: string;
  kind: string;
  group_name: string;
  micros: number;
  tokens: number;
  outcome: string | null;
}

async function startRig(t: TestContext, opts: RigOptions) {
  const model = await FakeModel.start();
  const groups = new Map(opts.groups.map((g) => [g.name, g]));
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const refusals: { group: string; refusal: BudgetRefusal }[] = [];
  const settledGroups: string[] = [];
  const warnings: { msg: string; [field: string]: unknown }[] = [];
  const providers = opts.providers(model.baseUrl);
  const proxy = createModelProxy({
    groups: () => groups,
    providers: () => providers,
    globalPrices: () => opts.globalPrices ?? {},
    secret: () => undefined,
    ledger: new SqliteLedger({ db, groupLimits: (g) => groups.get(g)!.budget, globalLimits: opts.globalLimits ?? (() => ({})), hostTimezone: 'UTC', clock: () => NOON }),
    audit: { append: (e) => audit.push(e) },
    cooldownMs: 60_000,
    log: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string }) }),
    onBudgetRefused: (group, refusal) => refusals.push({ group, refusal }),
    onSettled: (group) => settledGroups.push(group),
    maxConcurrentCallsPerGroup: opts.maxConcurrentCallsPerGroup,
  });
  const { origin } = await serveProxy(t, proxy, model, db);
  return {
    model,
    providers,
    audit,
    refusals,
    settledGroups,
    warnings,
    rows: () => db.prepare('SELECT reservation_id, kind, group_name, micros, tokens, outcome FROM ledger ORDER BY id').all() as LedgerRow[],
    ask: async (group: string, body: Record<string, unknown>) => {
      const res = await fetch(`${origin}/g/${group}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
      });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
    },
  };
}

test('a model with no price is refused before any upstream call, naming the config key to set', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'llama3.2', fallbacks: ['free', 'global-priced'] })],
    providers: (url): ProviderConfig[] => [
      { name: 'other', baseUrl: url, models: ['x'], prices: {}, timeoutSeconds: 5 },
      { name: 'local', baseUrl: url, prices: { free: { input: 0, output: 0 } }, timeoutSeconds: 5 },
    ],
    globalPrices: { 'global-priced': { input: 1, output: 2 } },
  });
  const res = await rig.ask('g', { model: 'llama3.2' });
  assert.equal(res.status, 403);
  assert.equal(res.body.error!.code, 'model_price_missing');
  assert.equal(
    res.body.error!.message,
    'no price configured for model llama3.2: set providers[1].prices["llama3.2"] (or prices["llama3.2"]) in enclave.yaml — 0 is fine for local models',
  );
  assert.equal(rig.model.requests.length, 0);
  assert.equal(rig.rows().length, 0, 'nothing reserved');
  assert.deepEqual(rig.audit.map((e) => [e.kind, e.detail.reason]), [['model_refused', 'no_price']]);

  assert.equal((await rig.ask('g', { model: 'free' })).status, 200, 'a price of 0 is a price');
  assert.equal((await rig.ask('g', { model: 'global-priced' })).status, 200, 'the top-level price table counts');
  assert.deepEqual(rig.rows().filter((r) => r.kind === 'settle').map((r) => r.micros), [0, 12 * 1 + 5 * 2]);
  assert.deepEqual(rig.settledGroups, ['g', 'g']);
});

test('over the limit the call is refused before any upstream request, with the ledger\'s sentence', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', budget: { dailyUsd: 0.05 }, maxOutputTokens: 1000 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 10, output: 100 } }, timeoutSeconds: 5 }],
  });
  // Worst case: 1000 output tokens at $100/M = $0.10 alone, over the $0.05 limit.
  const refused = await rig.ask('g', { model: 'm' });
  assert.equal(refused.status, 402);
  assert.equal(refused.body.error!.code, 'budget_exceeded');
  assert.equal(rig.model.requests.length, 0);
  assert.equal(rig.refusals.length, 1);
  assert.deepEqual([rig.refusals[0]!.group, rig.refusals[0]!.refusal.scope, rig.refusals[0]!.refusal.period], ['g', 'group', 'day']);
  assert.equal(refused.body.error!.message, rig.refusals[0]!.refusal.message);
  const audited = rig.audit.find((e) => e.kind === 'model_refused')!;
  assert.deepEqual([audited.detail.reason, audited.detail.limit], ['budget', 50_000]);

  // A smaller max_tokens makes the worst case fit.
  const fits = await rig.ask('g', { model: 'm', max_tokens: 100 });
  assert.equal(fits.status, 200);
  assert.equal(rig.model.requests[0]!.body.max_tokens, 100);
  const [reserve, settle] = rig.rows();
  assert.equal(reserve!.tokens, promptTokenBound(rig.model.requests[0]!.body) + 100, 'the reservation counts the prompt bound and 100 output tokens');
  assert.deepEqual([settle!.outcome, settle!.micros], ['ok', 12 * 10 + 5 * 100]);
});

test('200 simultaneous calls from 4 groups never overspend a limit that allows about 50', async (t) => {
  const groups = ['g1', 'g2', 'g3', 'g4'].map((name) => testGroup({ name, model: 'm', budget: {}, maxOutputTokens: 100 }));
  let globalLimits: BudgetLimits = {};
  const rig = await startRig(t, {
    groups,
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 1, output: 1 } }, timeoutSeconds: 30 }],
    globalLimits: () => globalLimits,
    maxConcurrentCallsPerGroup: 100,
  });
  // Every call really uses nearly its worst case, so a settlement frees little room.
  rig.model.fallback = (req) => ({ content: 'ok', delayMs: 5, usage: { prompt_tokens: promptTokenBound(req.body) - 1, completion_tokens: 100 } });

  assert.equal((await rig.ask('g1', { model: 'm' })).status, 200);
  const [probeReserve, probeSettle] = rig.rows();
  const worst = probeReserve!.micros;
  const actual = probeSettle!.micros;
  const limitMicros = probeSettle!.micros + 50 * worst + Math.floor(worst / 2);
  globalLimits = { dailyUsd: limitMicros / 1_000_000 };

  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => rig.ask(groups[i % 4]!.name, { model: 'm' })));
  const accepted = results.filter((r) => r.status === 200).length;
  const refused = results.filter((r) => r.status !== 200);
  assert.ok(refused.every((r) => r.status === 402 && r.body.error?.code === 'budget_exceeded'), 'every refused call got the budget error');
  assert.ok(accepted >= 50, `the 50 worst cases that fit were all accepted (${accepted})`);
  assert.ok(accepted <= Math.floor((limitMicros - actual) / actual), `no more than the limit can pay for (${accepted})`);

  const rows = rig.rows();
  const settled = rows.filter((r) => r.kind === 'settle');
  const total = settled.reduce((sum, r) => sum + r.micros, 0);
  assert.ok(total <= limitMicros, `settled ${total} micros against a limit of ${limitMicros}`);
  assert.equal(rig.model.requests.length - 1, accepted, 'upstream calls == accepted calls');
  assert.equal(rows.filter((r) => r.kind === 'reserve').length, accepted + 1);
  assert.equal(settled.length, accepted + 1, 'every reservation was settled');
  assert.equal(rig.refusals.length, 200 - accepted);
  assert.equal(new Set(rig.refusals.map((r) => r.group)).size, 4, 'every group met the global limit');
});

test('a call that costs more than its reservation is charged in full, audited and logged as an overrun', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', maxOutputTokens: 10 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 1, output: 2 } }, timeoutSeconds: 5 }],
  });
  // The provider reports far more than the prompt's bytes and the 10-token output cap allow.
  rig.model.push({ content: 'longer than allowed', usage: { prompt_tokens: 5_000, completion_tokens: 300 } });
  assert.equal((await rig.ask('g', { model: 'm' })).status, 200);
  const [reserve, settle] = rig.rows();
  const real = 5_000 * 1 + 300 * 2;
  assert.ok(reserve!.micros < real, `the reservation (${reserve!.micros}) was below the real cost`);
  assert.deepEqual([settle!.outcome, settle!.micros, settle!.tokens], ['ok', real, 5_300], 'the ledger holds the real cost');
  const call = rig.audit.find((e) => e.kind === 'model_call')!;
  assert.equal(call.detail.overrun_micros, real - reserve!.micros);
  assert.equal(call.detail.overrun_tokens, 5_300 - reserve!.tokens);
  const warning = rig.warnings.find((w) => w.msg.includes('cost more than its reservation'));
  assert.ok(warning, 'the overrun is logged');
  assert.deepEqual([warning.group, warning.overrun_micros], ['g', real - reserve!.micros]);

  assert.equal((await rig.ask('g', { model: 'm' })).body.error!.code, 'model_output_unbounded', 'after an overrun the model waits for the owner');
  rig.providers[0]!.prices.m!.maxOutputTokens = 512;
  rig.model.push({ content: 'within bounds' });
  assert.equal((await rig.ask('g', { model: 'm' })).status, 200);
  const normal = rig.audit.filter((e) => e.kind === 'model_call')[1]!;
  assert.equal(normal.detail.overrun_micros, undefined, 'a call within its reservation has no overrun');
  assert.equal(rig.warnings.filter((w) => w.msg.includes('cost more than its reservation')).length, 1);
});

test('a reasoning model past its max_tokens: the calls in flight overrun once, then the model is refused until prices.<model>.maxOutputTokens covers it', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', budget: {}, maxOutputTokens: 100 }), testGroup({ name: 'other', model: 'm', budget: {}, maxOutputTokens: 100 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 0, output: 10 } }, timeoutSeconds: 30 }],
    maxConcurrentCallsPerGroup: 4,
  });
  // Hidden reasoning is billed as output but not capped by max_tokens (DeepSeek's reasoner: up to 32K more).
  rig.model.fallback = () => ({ content: 'ok', delayMs: 20, usage: { prompt_tokens: 10, completion_tokens: 20_000 } });
  const round = () => Promise.all(Array.from({ length: 4 }, () => rig.ask('g', { model: 'm' })));
  assert.deepEqual((await round()).map((r) => r.status), [200, 200, 200, 200], 'the calls already in flight cannot be stopped');
  assert.equal(rig.model.requests.length, 4);
  assert.ok(rig.model.requests.every((r) => r.body.max_tokens === 100 && r.body.max_completion_tokens === undefined), 'max_tokens is forwarded as before');

  const refused = await round();
  assert.equal(rig.model.requests.length, 4, 'no further call reached the provider');
  for (const r of refused) {
    assert.equal(r.status, 403);
    assert.equal(r.body.error!.code, 'model_output_unbounded');
  }
  assert.equal(
    refused[0]!.body.error!.message,
    'a call to model m produced 20000 output tokens, more than it reserved (its max_tokens does not cap its hidden reasoning), ' +
      'so calls to it are refused until the most output tokens one call can produce is set. In enclave.yaml providers[0].prices (or the top-level prices), write:\n' +
      '  m: { input: 0, output: 10, maxOutputTokens: 32768 }\n' +
      "using the provider's documented maximum (output and reasoning together) if it is larger, then restart Enclave.",
  );
  assert.ok(rig.audit.some((e) => e.kind === 'model_refused' && e.detail.reason === 'output_unbounded'));
  assert.equal((await rig.ask('other', { model: 'm' })).status, 200, 'another group is not locked by this one');

  rig.providers[0]!.prices.m!.maxOutputTokens = 16_000;
  assert.equal((await rig.ask('g', { model: 'm' })).body.error!.code, 'model_output_unbounded', 'a maximum below the output seen does not lift it');
  rig.providers[0]!.prices.m!.maxOutputTokens = 32_768;
  assert.equal((await rig.ask('g', { model: 'm' })).status, 200);
  const last = rig.rows().filter((r) => r.kind === 'reserve').at(-1)!;
  assert.equal(last.tokens, promptTokenBound(rig.model.requests.at(-1)!.body) + 32_768, 'the reservation counts the model\'s maximum output');
});

test('with prices.<model>.maxOutputTokens set, parallel calls of a reasoning model near the limit never settle above it', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', budget: { dailyUsd: 0.5 }, maxOutputTokens: 100 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 0, output: 10, maxOutputTokens: 32_768 } }, timeoutSeconds: 30 }],
    maxConcurrentCallsPerGroup: 4,
  });
  rig.model.fallback = () => ({ content: 'ok', delayMs: 20, usage: { prompt_tokens: 10, completion_tokens: 20_000 } });
  const statuses: number[] = [];
  for (let round = 0; round < 2; round++) {
    statuses.push(...(await Promise.all(Array.from({ length: 4 }, () => rig.ask('g', { model: 'm' })))).map((r) => r.status));
  }
  const spent = rig.rows().filter((r) => r.kind === 'settle').reduce((sum, r) => sum + r.micros, 0);
  assert.ok(spent <= 500_000, `settled ${spent} micros against a limit of 500000`);
  assert.ok(statuses.includes(200) && statuses.every((s) => s === 200 || s === 402), statuses.join());
  assert.equal(rig.audit.filter((e) => e.kind === 'model_call' && e.detail.overrun_micros !== undefined).length, 0);
});

/** Spaced digits: a byte-level tokenizer makes one token of every byte. */
function spacedDigits(bytes: number): string {
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `${i % 10} `;
  return text.slice(0, bytes);
}

test('parallel 300 kB calls of spaced digits never settle above the limit when the provider counts a token per byte', async (t) => {
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', budget: { dailyUsd: 0.5 }, maxOutputTokens: 100 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 0.5, output: 2 } }, timeoutSeconds: 30 }],
    maxConcurrentCallsPerGroup: 4,
  });
  // The provider's count: a token per byte of everything in the messages, and the whole output allowance.
  rig.model.fallback = (req) => ({ content: 'ok', delayMs: 20, usage: { prompt_tokens: Buffer.byteLength(JSON.stringify(req.body.messages)), completion_tokens: 100 } });
  const content = spacedDigits(300_000);
  const statuses: number[] = [];
  for (let round = 0; round < 2; round++) {
    const results = await Promise.all(Array.from({ length: 4 }, () => rig.ask('g', { model: 'm', messages: [{ role: 'user', content }] })));
    for (const r of results) {
      statuses.push(r.status);
      if (r.status !== 200) {
        assert.equal(r.status, 402);
        assert.equal(r.body.error?.code, 'budget_exceeded');
        assert.match(r.body.error!.message, /of its \$0\.50 daily budget, and this call could cost up to/);
      }
    }
  }
  const settled = rig.rows().filter((r) => r.kind === 'settle');
  const spent = settled.reduce((sum, r) => sum + r.micros, 0);
  assert.ok(spent <= 500_000, `settled ${spent} micros against a limit of 500000`);
  assert.equal(statuses.filter((s) => s === 200).length, 3, 'three calls fit: each really costs about $0.15');
  assert.equal(rig.audit.filter((e) => e.kind === 'model_call' && e.detail.overrun_micros !== undefined).length, 0, 'no call cost more than its reservation');
  for (const r of rig.rows().filter((row) => row.kind === 'reserve')) {
    const s = settled.find((row) => row.reservation_id === r.reservation_id)!;
    assert.ok(s.tokens <= r.tokens, `settled ${s.tokens} tokens of ${r.tokens} reserved`);
  }
});

test('a daily token limit holds the same way: parallel calls never settle more tokens than it allows', async (t) => {
  const limit = 100_000;
  const rig = await startRig(t, {
    groups: [testGroup({ name: 'g', model: 'm', budget: { dailyTokens: limit }, maxOutputTokens: 100 })],
    providers: (url) => [{ name: 'p', baseUrl: url, prices: { m: { input: 0, output: 0 } }, timeoutSeconds: 30 }],
    maxConcurrentCallsPerGroup: 4,
  });
  rig.model.fallback = (req) => ({ content: 'ok', delayMs: 20, usage: { prompt_tokens: Buffer.byteLength(JSON.stringify(req.body.messages)), completion_tokens: 100 } });
  const content = spacedDigits(30_000);
  const results = await Promise.all(Array.from({ length: 8 }, () => rig.ask('g', { model: 'm', messages: [{ role: 'user', content }] })));
  const refused = results.filter((r) => r.status !== 200);
  assert.ok(refused.every((r) => r.status === 402 && /tokens/.test(r.body.error!.message)), JSON.stringify(refused.map((r) => r.body)));
  const tokens = rig.rows().filter((r) => r.kind === 'settle').reduce((sum, r) => sum + r.tokens, 0);
  assert.ok(tokens <= limit, `settled ${tokens} tokens against a limit of ${limit}`);
  assert.equal(results.length - refused.length, 3, 'three calls of about 30,000 tokens fit');
});

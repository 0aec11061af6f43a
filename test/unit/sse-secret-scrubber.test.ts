import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseFramingError } from '../../src/proxy/sse-events.js';
import { SseSecretScrubber } from '../../src/proxy/sse-secret-scrubber.js';

const KEY = 'sk-sse-key-0123456789abcdef';

function run(secrets: string[], chunks: string[]): string {
  const scrubber = new SseSecretScrubber(secrets);
  return Buffer.concat([...chunks.map((c) => scrubber.push(Buffer.from(c))), scrubber.end()]).toString();
}

/** What a spec-following client reads: events split on any line end, data lines joined with "\n". */
function clientEvents(stream: string): string[] {
  const events: string[] = [];
  let data: string[] = [];
  for (const line of stream.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length > 0) events.push(data.join('\n'));
      data = [];
    } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return events;
}

/** Every string of every delta, joined per choice and path as a client accumulating deltas would. */
function joinedStrings(stream: string): string {
  const joined = new Map<string, string>();
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'string') joined.set(path, (joined.get(path) ?? '') + value);
    else if (Array.isArray(value)) value.forEach((v: unknown, i) => walk(v, `${path}[${(v as { index?: number } | null)?.index ?? i}]`));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  for (const data of clientEvents(stream)) {
    if (data === '[DONE]') continue;
    for (const c of (JSON.parse(data) as { choices?: { index?: number; delta?: unknown }[] }).choices ?? []) walk(c.delta, String(c.index ?? 0));
  }
  return [...joined.values()].join('|');
}

const event = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const pieces = KEY.match(/.{1,4}/g)!;

test('events are written out in one canonical form: any line ends, multi-line data, a BOM and comments read as a client reads them', () => {
  const a = { choices: [{ index: 0, delta: { content: 'hello' }, finish_reason: null }] };
  const b = { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
  const stream = `\uFEFF: keep-alive\r\rdata:${JSON.stringify(a)}\r\n\r\ndata: {"choices":\ndata: ${JSON.stringify(b.choices)}}\n\ndata: [DONE]\r\r`;
  const expected = `:\ndata: ${JSON.stringify(a)}\n\ndata: ${JSON.stringify(b)}\n\ndata: [DONE]\n\n`;
  assert.equal(run([KEY], [stream]), expected);
  for (let cut = 1; cut < stream.length; cut += 3) assert.equal(run([KEY], [stream.slice(0, cut), stream.slice(cut)]), expected, `cut at ${cut}`);
});

test('a key sent a few characters per event is caught whatever the framing', () => {
  const framings: Record<string, (p: string) => string> = {
    'LF': (p) => event({ content: p }),
    'CR only': (p) => event({ content: p }).replace(/\n/g, '\r'),
    'CRLF': (p) => event({ content: p }).replace(/\n/g, '\r\n'),
    'multi-line data': (p) => `data: {"choices":[{"index":0,"delta":\ndata: {"content":${JSON.stringify(p)}}}]}\n\n`,
    'no space after data:': (p) => event({ content: p }).replace('data: ', 'data:'),
  };
  for (const [name, frame] of Object.entries(framings)) {
    const stream = ['\uFEFF', ...pieces.map(frame), 'data: [DONE]\n\n'];
    const out = run([KEY], stream);
    assert.equal(joinedStrings(out), '[redacted]', name);
    assert.ok(!out.includes(pieces[0]!), `${name}: no piece of the key went out`);
  }
});

test('every string in a delta is scrubbed as the client joins it: legacy function_call, audio transcript, tool calls, unknown fields', () => {
  for (const shape of [
    (p: string) => ({ function_call: { arguments: p } }),
    (p: string) => ({ audio: { transcript: p } }),
    (p: string) => ({ tool_calls: [{ index: 1, function: { arguments: p } }] }),
    (p: string) => ({ some_future_field: { text: p } }),
  ]) {
    const out = run([KEY], [...pieces.map((p) => event(shape(p))), event({}, 'stop'), 'data: [DONE]\n\n']);
    assert.equal(joinedStrings(out), '[redacted]', JSON.stringify(shape('x')));
  }
});

test('a \\u-escaped key and a key used as a field name are caught in any event', () => {
  const escaped = `data: {"choices":[{"index":0,"delta":{"audio":{"transcript":"\\u0073${KEY.slice(1)}"}}}],"x":{"${KEY}":1}}\n\ndata: [DONE]\n\n`;
  const out = run([KEY], [escaped]);
  assert.ok(!JSON.stringify(clientEvents(out).map((d) => (d === '[DONE]' ? d : JSON.parse(d) as unknown))).includes(KEY.slice(4)), out);
  assert.match(out, /"transcript":"\[redacted\]"/);
});

test('text held back is sent before [DONE], not at a finish after which the key could go on', () => {
  const stream = [event({ content: `x ${KEY.slice(0, 10)}` }, 'stop'), event({ content: `${KEY.slice(10)} y` }), 'data: [DONE]\n\n'];
  const out = run([KEY], stream);
  assert.equal(joinedStrings(out), 'x [redacted] y');
  const honest = run([KEY], [event({ content: 'ends with s' }, 'stop'), 'data: [DONE]\n\n']);
  assert.equal(joinedStrings(honest), 'ends with s', 'a held-back "s" reaches the client before [DONE]');
  assert.ok(honest.indexOf('"s"') < honest.indexOf('[DONE]'));
});

test('ids, roles and names are never cut or held back; one that completes a key is replaced whole', () => {
  const honest = run([KEY], [event({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_s', type: 'function', function: { name: 'get_s', arguments: '{}' } }] }), 'data: [DONE]\n\n']);
  const [first] = clientEvents(honest);
  assert.deepEqual((JSON.parse(first!) as { choices: { delta: unknown }[] }).choices[0]!.delta, { role: 'assistant', tool_calls: [{ index: 0, id: 'call_s', type: 'function', function: { name: 'get_s', arguments: '{}' } }] });
  const split = run([KEY], [event({ tool_calls: [{ index: 0, id: KEY.slice(0, 12) }] }), event({ tool_calls: [{ index: 0, id: KEY.slice(12) }] }), 'data: [DONE]\n\n']);
  assert.ok(!split.includes(KEY.slice(12)), 'the piece that completes the key is replaced');
});

test('nothing after [DONE] is passed on', () => {
  const out = run([KEY], [event({ content: 'a' }), 'data: [DONE]\n\n', event({ content: 'after' })]);
  assert.ok(!out.includes('after'));
});

test('an event that is not JSON, longer than the limit or indexed by anything but a whole number ends the stream with an error', () => {
  assert.throws(() => run([KEY], ['data: not json\n\n']), SseFramingError);
  assert.throws(() => run([KEY], [`data: {"x":"${'y'.repeat(4 * 1024 * 1024)}`]), SseFramingError);
  assert.throws(() => run([KEY], [`data: ${JSON.stringify({ choices: [{ index: '0 ', delta: { content: 'a' } }] })}\n\n`]), SseFramingError);
  assert.throws(() => run([KEY], [`data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0.5 }] } }] })}\n\n`]), SseFramingError);
});

test('with no secret to scrub the stream passes byte for byte', () => {
  const stream = `data: {"choices":\r\ndata: []}\r\r: x\n`;
  assert.equal(run([], [stream]), stream);
});

test('events before an unreadable one in the same read still reach the agent, scrubbed; nothing after it', () => {
  const scrubber = new SseSecretScrubber(['sk-live-abcdefghijklmnop']);
  const good = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'fine. ' }, finish_reason: null }] })}\n\n`;
  const read = Buffer.from(`${good}data: {"choices": not json sk-live-abcdefghijklmnop\n\n${good}`);
  const err = (() => {
    try {
      scrubber.push(read);
    } catch (e) {
      return e;
    }
    return assert.fail('an unreadable event ends the stream');
  })();
  assert.ok(err instanceof SseFramingError);
  const before = err.before?.toString('utf8') ?? '';
  assert.match(before, /fine\. /, 'the event before it is delivered');
  assert.equal(before.split('fine').length, 2, 'only the one before it');
  assert.ok(!before.includes('sk-live') && !before.includes('not json'), before);
});

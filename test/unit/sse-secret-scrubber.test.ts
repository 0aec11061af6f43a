import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseSecretScrubber } from '../../src/proxy/sse-secret-scrubber.js';

const KEY = 'sk-sse-key-0123456789abcdef';

function run(secrets: string[], chunks: string[]): string {
  const scrubber = new SseSecretScrubber(secrets);
  return Buffer.concat([...chunks.map((c) => scrubber.push(Buffer.from(c))), scrubber.end()]).toString();
}

const event = (delta: unknown, finish: string | null = null, eol = '\n\n') => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}${eol}`;

test('events without secrets pass byte for byte, CRLF line ends and comments included', () => {
  const stream = `: keep-alive\r\n\r\n${event({ content: 'hello' }, null, '\r\n\r\n')}${event({}, 'stop', '\r\n\r\n')}data: [DONE]\r\n\r\n`;
  assert.equal(run([KEY], [stream]), stream);
  for (let cut = 1; cut < stream.length; cut += 7) assert.equal(run([KEY], [stream.slice(0, cut), stream.slice(cut)]), stream, `cut at ${cut}`);
});

test('a rewritten event keeps its CRLF ending; a key split over events and a line break is caught', () => {
  const stream = `${event({ content: `a ${KEY.slice(0, 5)}` }, null, '\r\n\r\n')}${event({ content: `${KEY.slice(5)} b` }, 'stop', '\r\n\r\n')}`;
  const out = run([KEY], [stream.slice(0, 30), stream.slice(30)]);
  const contents = out.split('\r\n').filter((l) => l.startsWith('data:')).map((l) => (JSON.parse(l.slice(5)) as { choices: { delta: { content?: string } }[] }).choices[0]!.delta.content ?? '');
  assert.equal(contents.join(''), 'a [redacted] b');
  assert.ok(!out.includes(KEY.slice(0, 5)), 'no part of the key went out');
});

test('a line too long to read as an event still passes the byte-level scrubber', () => {
  const long = `data: {"x":"${'y'.repeat(1024 * 1024 + 10)}${KEY}"}\n\n`;
  const out = run([KEY], [long.slice(0, 600_000), long.slice(600_000, 1_100_000), long.slice(1_100_000)]);
  assert.equal(out, long.replace(KEY, '[redacted]'));
});

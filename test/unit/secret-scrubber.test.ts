import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, scrubBytes, StreamScrubber } from '../../src/proxy/secret-scrubber.js';

const KEY = 'sk-live-0123456789abcdefXYZ';
const TOKEN = '7700001:tg-token/with+slash';

/** Pushes the text in pieces cut at the given offsets; returns what came out and the largest hold-back seen. */
function run(secrets: string[], text: string, cuts: number[]): { out: string; maxHeld: number } {
  const scrubber = new StreamScrubber(secrets);
  const bytes = Buffer.from(text);
  const pieces: Buffer[] = [];
  let start = 0;
  let passedIn = 0;
  let passedOut = 0;
  let maxHeld = 0;
  for (const end of [...cuts, bytes.length]) {
    const chunk = bytes.subarray(start, end);
    passedIn += chunk.length;
    const out = scrubber.push(chunk);
    pieces.push(out);
    passedOut += out.length;
    start = end;
    // Held back = bytes in minus bytes out, counting each redaction as the secret it replaced.
    const replaced = Buffer.concat(pieces).toString().split(REDACTED).length - 1;
    maxHeld = Math.max(maxHeld, passedIn - (passedOut - replaced * REDACTED.length + replaced * KEY.length));
  }
  pieces.push(scrubber.end());
  return { out: Buffer.concat(pieces).toString(), maxHeld };
}

test('a secret split across two chunks at every offset is replaced, and the rest passes unchanged', () => {
  const text = `data: {"choices":[{"delta":{"content":"your key is ${KEY}!"}}]}\n\n`;
  const at = text.indexOf(KEY);
  for (let cut = at; cut <= at + KEY.length; cut++) {
    const { out, maxHeld } = run([KEY], text, [cut]);
    assert.equal(out, text.replace(KEY, REDACTED), `cut at ${cut - at}`);
    assert.ok(maxHeld <= KEY.length - 1, `cut at ${cut - at}: held back ${maxHeld} bytes`);
  }
});

test('a secret spread one byte per chunk, twice, next to another secret, is replaced every time', () => {
  const text = `${KEY}${TOKEN} and ${KEY}`;
  const cuts = Array.from({ length: Buffer.byteLength(text) - 1 }, (_, i) => i + 1);
  assert.equal(run([KEY, TOKEN], text, cuts).out, `${REDACTED}${REDACTED} and ${REDACTED}`);
});

test('JSON-escaped spellings of a secret are replaced too; short values and unrelated text are left alone', () => {
  const escaped = JSON.stringify({ token: TOKEN }).replace(/\//g, '\\/');
  assert.equal(scrubBytes(Buffer.from(escaped), [TOKEN]).toString(), `{"token":"${REDACTED}"}`);
  const quoted = 'p"ss\\word-longer';
  assert.equal(scrubBytes(Buffer.from(JSON.stringify({ v: quoted })), [quoted]).toString(), `{"v":"${REDACTED}"}`);
  assert.equal(scrubBytes(Buffer.from('short abc and more'), ['abc', '']).toString(), 'short abc and more');
  const plain = Buffer.from('nothing secret here, é漢🦀');
  assert.deepEqual(scrubBytes(plain, [KEY]), plain);
});

test('with no secrets the stream passes through untouched and nothing is held back', () => {
  const scrubber = new StreamScrubber([]);
  const chunk = Buffer.from('abc');
  assert.equal(scrubber.push(chunk), chunk);
  assert.equal(scrubber.end().length, 0);
});

test('only bytes that could begin a secret are held back, so a stream is not delayed', () => {
  const scrubber = new StreamScrubber([KEY]);
  assert.equal(scrubber.push(Buffer.from('data: hello\n\n')).toString(), 'data: hello\n\n');
  assert.equal(scrubber.push(Buffer.from('then sk-li')).toString(), 'then ', 'the start of the key waits');
  assert.equal(scrubber.push(Buffer.from('ght')).toString(), 'sk-light', 'and passes once it cannot be the key');
  assert.equal(scrubber.end().length, 0);
});

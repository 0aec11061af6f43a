import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitMessage } from '../../channels/chunk.js';

test('short text is one chunk', () => {
  assert.deepEqual(splitMessage('hello', 10), ['hello']);
  assert.deepEqual(splitMessage('', 10), ['']);
});

test('splits on paragraphs before lines before words, every chunk within the limit', () => {
  const text = `${'a'.repeat(30)}\n\n${'b'.repeat(30)}\n${'c'.repeat(30)} ${'d'.repeat(30)}`;
  const chunks = splitMessage(text, 70);
  assert.deepEqual(chunks, ['a'.repeat(30), 'b'.repeat(30), `${'c'.repeat(30)} ${'d'.repeat(30)}`]);
  for (const c of splitMessage('word '.repeat(1000), 97)) assert.ok(c.length <= 97);
});

test('does not cut inside a code block when a boundary outside exists', () => {
  const code = '```\nline one\nline two\nline three\n```';
  const text = `Intro paragraph here.\n\n${code}`;
  const chunks = splitMessage(text, 45);
  assert.equal(chunks[0], 'Intro paragraph here.');
  assert.equal(chunks[1], code);
});

test('a text with no boundary is cut hard and loses nothing', () => {
  const text = 'x'.repeat(250);
  const chunks = splitMessage(text, 100);
  assert.deepEqual(chunks.map((c) => c.length), [100, 100, 50]);
  assert.equal(chunks.join(''), text);
});

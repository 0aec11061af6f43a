import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextBlock, openFenceAt, splitMessage } from '../../channels/chunk.js';

test('a cut with no paragraph or line boundary in reach falls after a sentence, keeping its full stop', () => {
  const text = `${'Alpha beta gamma delta. '.repeat(8)}${'x'.repeat(200)}`;
  const [first] = splitMessage(text, 150);
  assert.ok(first!.endsWith('.'), first);
  assert.ok(first!.length <= 150);
});

test('a cut forced inside a code fence closes it and reopens it, with its language, in the next piece', () => {
  const code = Array.from({ length: 30 }, (_, i) => `let v${i} = ${i};`).join('\n');
  const text = `Intro.\n\n\`\`\`ts\n${code}\n\`\`\``;
  const pieces = splitMessage(text, 200);
  assert.ok(pieces.length > 2);
  for (const [i, piece] of pieces.entries()) {
    assert.ok(piece.length <= 200, `piece ${i} has ${piece.length} characters`);
    assert.equal(openFenceAt(piece, piece.length), undefined, `piece ${i} leaves no fence open:\n${piece}`);
    if (i > 1) assert.ok(piece.startsWith('```ts\n'), `piece ${i} reopens the fence`);
  }
  const lines = pieces.join('\n').split('\n');
  for (let i = 0; i < 30; i++) assert.ok(lines.includes(`let v${i} = ${i};`), `line ${i} survives whole`);
});

test('nextBlock waits for a paragraph end outside code and minChars, then gives the block', () => {
  assert.equal(nextBlock('short para\n\nmore', 20, 1000), undefined, 'too short');
  assert.equal(nextBlock('```\ncode line one\n\ncode line two', 5, 1000), undefined, 'a blank line inside code is no block end');
  const block = nextBlock('First paragraph is long enough.\n\nSecond starts', 10, 1000)!;
  assert.equal(block.text, 'First paragraph is long enough.');
  assert.equal(block.rest, 'Second starts');
  const forced = nextBlock('word '.repeat(300), 10, 200)!;
  assert.ok(forced.text.length <= 200, 'past the limit a block is forced');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { htmlToText, htmlToTextCounted, MAX_HTML_CHARS } from '../../src/tools/html-text.js';

test('htmlToText keeps the title, the text and the block breaks, and drops head, scripts, styles and comments', () => {
  const page = '<!doctype html><html><head><title>Menu &amp; prices</title><style>p{x}</style></head>'
    + '<body><!-- hidden --><h1>Lunch</h1><p>Soup<br>Bread &lt;3</p><script>alert(1)</script><div>a &lt; b</div></body></html> 1 < 2';
  assert.equal(htmlToText(page), 'Menu & prices\n\nLunch\nSoup\nBread <3\na < b\n1 < 2');
});

/** Pages built to make a regex look at the rest of the page again for every repetition. */
const CRAFTED: Record<string, string> = {
  'repeated <': '<',
  'repeated <title': '<title',
  'repeated <script': '<script ',
  'repeated <!--': '<!--',
  'repeated <a': '<a',
  'repeated </': '</',
};

for (const [name, unit] of Object.entries(CRAFTED)) {
  test(`${name}: converting grows linearly with the page (characters looked at, 100 KB against 1 MB)`, () => {
    const steps = (bytes: number) => htmlToTextCounted(unit.repeat(Math.ceil(bytes / unit.length))).steps;
    const small = steps(100 * 1024);
    const large = steps(1024 * 1024);
    assert.ok(large <= 8 * 1024 * 1024, `${large} characters looked at for a 1 MB page`);
    assert.ok(large <= 11 * small, `100 KB: ${small} steps, 1 MB: ${large} steps`);
  });
}

test('only the first MAX_HTML_CHARS of a page are converted', () => {
  const page = `<p>${'a'.repeat(MAX_HTML_CHARS)}</p><p>tail</p>`;
  const { text, steps } = htmlToTextCounted(page);
  assert.ok(!text.includes('tail'));
  assert.ok(steps <= 8 * MAX_HTML_CHARS);
});

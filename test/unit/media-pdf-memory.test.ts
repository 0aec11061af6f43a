import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createDeflate } from 'node:zlib';
import { documentText } from '../../src/media/document-text.js';
import { sniffType } from '../../src/media/sniff.js';
import { pdfWithText } from '../helpers/media-fixtures.js';

const MB = 1024 * 1024;

/** Zeros deflated a megabyte at a time, so making the bomb never holds it inflated in this process. */
async function deflatedZeros(mb: number): Promise<Buffer> {
  const zero = Buffer.alloc(MB);
  const source = Readable.from((function* () {
    for (let i = 0; i < mb; i++) yield zero;
  })());
  return buffer(source.pipe(createDeflate({ level: 9 })));
}

/** A one-page PDF whose embedded TrueType font (FontFile2) inflates to `mb` megabytes when its text is read. */
async function fontBombPdf(mb: number): Promise<Buffer> {
  const font = await deflatedZeros(mb);
  const content = Buffer.from('BT /F1 12 Tf 10 10 Td (Hello) Tj ET');
  const parts: [string, Buffer?][] = [
    ['<< /Type /Catalog /Pages 2 0 R >>'],
    ['<< /Type /Pages /Kids [3 0 R] /Count 1 >>'],
    ['<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>'],
    [`<< /Length ${content.length} >>`, content],
    ['<< /Type /Font /Subtype /TrueType /BaseFont /Bomb /FirstChar 32 /LastChar 126 /FontDescriptor 6 0 R >>'],
    ['<< /Type /FontDescriptor /FontName /Bomb /Flags 32 /FontBBox [0 0 1000 1000] /ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 /FontFile2 7 0 R >>'],
    [`<< /Length ${font.length} /Filter /FlateDecode >>`, font],
  ];
  const bufs: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  let size = bufs[0]!.length;
  const offsets: number[] = [];
  const push = (b: Buffer) => {
    bufs.push(b);
    size += b.length;
  };
  parts.forEach(([dict, stream], i) => {
    offsets.push(size);
    push(Buffer.from(`${i + 1} 0 obj\n${dict}\n`));
    if (stream) {
      push(Buffer.from('stream\n'));
      push(stream);
      push(Buffer.from('\nendstream\n'));
    }
    push(Buffer.from('endobj\n'));
  });
  const xref = size;
  push(Buffer.from(`xref\n0 ${parts.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`));
  push(Buffer.from(`trailer\n<< /Size ${parts.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`));
  return Buffer.concat(bufs);
}

/** The most memory this process has ever held resident, in bytes (the kernel's high-water mark). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

test('a small PDF whose font inflates to 256 MB fails with a clear reason and does not grow the host', async () => {
  const bomb = await fontBombPdf(256);
  assert.ok(bomb.length < 1 * MB, `small on the wire (${bomb.length} bytes)`);
  const before = peakRss();
  const read = await documentText(bomb, sniffType(bomb), { maxChars: 50_000, maxPages: 100, timeoutMs: 600_000 });
  const grew = peakRss() - before;
  assert.equal(read?.text, '');
  assert.match(read?.unreadable ?? '', /needs more memory than a document may use/);
  assert.match(read?.notice ?? '', /could not be read/);
  // Reading it in this process (or a worker thread of it) peaks at gigabytes; the child takes it all.
  assert.ok(grew < 200 * MB, `host peak RSS grew by ${Math.round(grew / MB)} MB`);
});

test('an ordinary PDF is still read in the child process', async () => {
  const pdf = pdfWithText('Quarterly figures: 7 apples');
  const read = await documentText(pdf, sniffType(pdf), { maxChars: 1000, maxPages: 5, timeoutMs: 600_000 });
  assert.match(read?.text ?? '', /Quarterly figures: 7 apples/);
  assert.equal(read?.unreadable, undefined);
});

import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { AttachmentTooLargeError, type Channel, type InboundAttachment } from '../../channels/channel.js';
import { audioSeconds } from '../../src/media/audio-duration.js';
import { documentText } from '../../src/media/document-text.js';
import { downloadAttachment } from '../../src/media/download.js';
import { safeFileName } from '../../src/media/file-name.js';
import { imageTiles, prepareImage } from '../../src/media/image.js';
import { sniffType } from '../../src/media/sniff.js';
import { pruneInbox, stageFile, StagingError } from '../../src/media/stage.js';
import { elfExecutable, pdfWithText, photoWithGps, voiceNote } from '../helpers/media-fixtures.js';

const photo: InboundAttachment = { kind: 'image', platformRef: 'p1' };

function channelServing(fetch: Channel['downloadAttachment']): Channel {
  return { name: 'test', maxMessageLength: 100, connect: async () => undefined, disconnect: async () => undefined, send: async () => undefined, setTyping: async () => undefined, health: () => ({ connected: true, reconnects: 0 }), downloadAttachment: fetch };
}

test('a photo is turned upright, shrunk to the maximum edge and loses EXIF and GPS', async () => {
  const original = await photoWithGps(3000, 2000);
  assert.ok((await sharp(original).metadata()).exif?.includes('TestCam'), 'the fixture carries EXIF');
  const prepared = await prepareImage(original, 1024);
  assert.equal(prepared.width, 1024);
  assert.equal(prepared.height, 683);
  const meta = await sharp(prepared.jpeg).metadata();
  assert.equal(meta.format, 'jpeg');
  assert.equal(meta.exif, undefined, 'no EXIF block (GPS lives there)');
  assert.ok(!prepared.jpeg.includes('TestCam'));
  assert.equal(imageTiles(prepared.width, prepared.height), 4, 'a resized photo of up to 1024 px a side is priced as 2×2 tiles');
});

test('a decompression bomb is refused before it is decoded', async () => {
  const huge = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
  assert.ok(huge.length < 2_000_000, 'small on the wire');
  await assert.rejects(prepareImage(huge, 1024), /pixel limit/i);
});

test('a PDF written as text gives its text; a 10,000-page PDF is read only up to the page cap', async () => {
  const pdf = pdfWithText('Invoice total: 42 EUR');
  const read = await documentText(pdf, sniffType(pdf), { maxChars: 1000, maxPages: 5, timeoutMs: 60_000 });
  assert.match(read!.text, /Invoice total: 42 EUR/);
  assert.equal(read!.notice, undefined);

  const long = pdfWithText('Page text', 10_000);
  const capped = await documentText(long, sniffType(long), { maxChars: 100_000, maxPages: 3, timeoutMs: 120_000 });
  assert.match(capped!.notice!, /only the first 3 of 10000 pages were read/);
  assert.equal(capped!.text.match(/Page text/g)?.length, 3);
});

test('a PDF that is still being read when its time is up is ended, and says so', async () => {
  const long = pdfWithText('Page text', 10_000);
  const stop = new AbortController();
  let fire: (() => void) | undefined;
  const reading = documentText(long, sniffType(long), { maxChars: 100_000, maxPages: 10_000, timeoutMs: 1000, setTimer: (fn) => void (fire = fn), signal: stop.signal });
  fire!();
  const read = await reading;
  assert.equal(read!.text, '');
  assert.match(read!.notice!, /could not be read \(reading took longer than 1 seconds\)/);
});

test('text documents are cut at the character cap with a notice', async () => {
  const csv = Buffer.from('a,b\n'.repeat(100));
  const read = await documentText(csv, sniffType(csv), { maxChars: 10, maxPages: 1, timeoutMs: 1000 });
  assert.equal(read!.text, 'a,b\na,b\na,');
  assert.match(read!.notice!, /first 10 of 400 characters/);
  assert.equal(await documentText(elfExecutable(), sniffType(elfExecutable()), { maxChars: 10, maxPages: 1, timeoutMs: 1000 }), undefined);
});

test('a voice note\'s length comes from its Ogg pages', () => {
  const seconds = audioSeconds(voiceNote(), 'audio/ogg');
  assert.ok(seconds !== undefined && seconds > 1 && seconds < 6, `2-3 seconds of speech, got ${seconds}`);
});

test('a stated size over the limit is refused before any byte moves', async () => {
  let fetched = false;
  const channel = channelServing(async () => {
    fetched = true;
    return Buffer.alloc(1);
  });
  const result = await downloadAttachment(channel, { ...photo, bytes: 50 * 1024 * 1024 }, { maxBytes: 20 * 1024 * 1024, signal: new AbortController().signal });
  assert.deepEqual(result, { ok: false, reason: 'too_large' });
  assert.equal(fetched, false);
});

test('an adapter that returns more than allowed, or says too large while streaming, or nothing, is refused', async () => {
  const signal = new AbortController().signal;
  const big = channelServing(async () => Buffer.alloc(2048));
  assert.deepEqual(await downloadAttachment(big, photo, { maxBytes: 1024, signal }), { ok: false, reason: 'too_large' });
  const streaming = channelServing(async (_a, limits) => {
    throw new AttachmentTooLargeError('past the limit', limits.maxBytes);
  });
  assert.deepEqual(await downloadAttachment(streaming, photo, { maxBytes: 1024, signal }), { ok: false, reason: 'too_large' });
  const empty = channelServing(async () => Buffer.alloc(0));
  assert.deepEqual(await downloadAttachment(empty, { kind: 'voice', platformRef: 'v' }, { maxBytes: 1024, signal }), { ok: false, reason: 'empty' });
});

test('a download that hangs ends when its signal fires, even if the adapter ignores the signal', async () => {
  const stop = new AbortController();
  let asked!: () => void;
  const started = new Promise<void>((r) => (asked = r));
  const hanging = channelServing(() => {
    asked();
    return new Promise<Buffer>(() => undefined);
  });
  const result = downloadAttachment(hanging, photo, { maxBytes: 1024, signal: stop.signal });
  await started;
  stop.abort();
  assert.deepEqual(await result, { ok: false, reason: 'aborted' });
});

test('staging writes read-only files inside the message folder under a safe name', () => {
  const inbox = join(mkdtempSync(join(tmpdir(), 'inbox-')), 'inbox');
  const pdf = pdfWithText('x');
  const name = safeFileName('../../etc/cron.d/evil\n.pdf', sniffType(pdf), 'document');
  const rel = stageFile(inbox, 7, name, pdf);
  assert.equal(rel, '7/evil_.pdf');
  assert.deepEqual(readFileSync(join(inbox, rel)), pdf);
  assert.equal(statSync(join(inbox, rel)).mode & 0o777, 0o444);
  assert.equal(stageFile(inbox, 7, name, pdf), '7/evil_-1.pdf', 'a taken name gets a number, the first file stays');
  assert.throws(() => stageFile(inbox, 7, '../x', pdf), StagingError);
});

test('a link planted at the file, the message folder or the inbox is never written through', () => {
  const root = mkdtempSync(join(tmpdir(), 'inbox-'));
  const inbox = join(root, 'inbox');
  const target = join(root, 'memory');
  mkdirSync(target);
  writeFileSync(join(target, 'MEMORY.md'), 'mine');
  mkdirSync(join(inbox, '8'), { recursive: true });
  symlinkSync(join(target, 'MEMORY.md'), join(inbox, '8', 'photo.jpg'));
  assert.equal(stageFile(inbox, 8, 'photo.jpg', Buffer.from('new')), '8/photo-1.jpg', 'the link is left alone, a new file is made');
  assert.equal(readFileSync(join(target, 'MEMORY.md'), 'utf8'), 'mine');

  symlinkSync(target, join(inbox, '9'));
  assert.throws(() => stageFile(inbox, 9, 'photo.jpg', Buffer.from('new')), /not a plain folder/);
  assert.deepEqual(readdirSync(target), ['MEMORY.md']);

  const linkedInbox = join(root, 'inbox2');
  symlinkSync(target, linkedInbox);
  assert.throws(() => stageFile(linkedInbox, 1, 'photo.jpg', Buffer.from('new')), /not a plain folder/);
  assert.deepEqual(readdirSync(target), ['MEMORY.md']);
});

test('old message folders are pruned, links among them removed without following', () => {
  const root = mkdtempSync(join(tmpdir(), 'inbox-'));
  const inbox = join(root, 'inbox');
  const keep = join(root, 'keep');
  mkdirSync(keep);
  writeFileSync(join(keep, 'f'), 'x');
  for (let id = 1; id <= 5; id++) stageFile(inbox, id, 'a.txt', Buffer.from('a'));
  symlinkSync(keep, join(inbox, '0'));
  pruneInbox(inbox, 3);
  assert.deepEqual(readdirSync(inbox).sort(), ['3', '4', '5']);
  assert.ok(lstatSync(join(keep, 'f')).isFile());
});

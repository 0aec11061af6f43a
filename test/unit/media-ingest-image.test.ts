import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ingestMessageMedia } from '../../src/media/ingest.js';
import { inboxDirOf } from '../../src/media/inbox-dir.js';
import { sniffType } from '../../src/media/sniff.js';
import { photoWithGps } from '../helpers/media-fixtures.js';
import { mediaDeps, message, tempGroup } from '../helpers/media-ingest.js';

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('a truncated JPEG carrying GPS EXIF is not staged: its location never reaches the inbox', async () => {
  const whole = await photoWithGps(800, 600);
  const truncated = whole.subarray(0, Math.floor(whole.length / 2));
  assert.equal(sniffType(truncated).category, 'image', 'still looks like a JPEG');
  assert.ok(truncated.includes('Exif\0') && truncated.includes('TestCam'), 'the EXIF block (with its GPS IFD) is in the first half');
  await assert.rejects(sharp(truncated, { failOn: 'error' }).jpeg().toBuffer(), 'sharp cannot decode it');

  const group = tempGroup();
  const out = await ingestMessageMedia(mediaDeps(async () => truncated), group, message(5, { kind: 'image', platformRef: 'p' }), true, new AbortController().signal);
  assert.deepEqual(filesUnder(inboxDirOf(group)), [], 'nothing staged');
  assert.equal(out.images.length, 0);
  assert.match(out.text.join('\n'), /could not be decoded; it was not kept/);
  assert.match(out.notices.join('\n'), /could not be decoded/);
});

test('a photo that decodes is staged without its EXIF', async () => {
  const group = tempGroup();
  const out = await ingestMessageMedia(mediaDeps(async () => photoWithGps(800, 600)), group, message(6, { kind: 'image', platformRef: 'p' }), true, new AbortController().signal);
  const staged = filesUnder(inboxDirOf(group));
  assert.equal(staged.length, 1);
  assert.equal((await sharp(staged[0]).metadata()).exif, undefined);
  assert.equal(out.images.length, 1);
});

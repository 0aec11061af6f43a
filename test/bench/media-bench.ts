/**
 * Media part of `npm run bench`: host time to take in a 2 MB photo (download from a fake platform
 * on 127.0.0.1, sniff, decode/rotate/resize/strip, stage in the inbox), p50, against a floor of the
 * same download and staging without the image work, and its share of a turn.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { safeFileName } from '../../src/media/file-name.js';
import { prepareImage } from '../../src/media/image.js';
import { sniffType } from '../../src/media/sniff.js';
import { stageFile } from '../../src/media/stage.js';
import { fmtMs, percentile, type BenchOptions, type BenchSection } from './stats.js';

/** What a vision model typically takes to answer about a photo; the share is of this plus the ingest. */
const MODEL_TURN_MS = 2000;

async function twoMbPhoto(): Promise<Buffer> {
  const width = 2400;
  const height = 1800;
  const noise = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const blurred = await sharp(noise, { raw: { width, height, channels: 3 } }).blur(0.9).jpeg({ quality: 92 }).toBuffer();
  return blurred;
}

export async function benchMedia(opts: BenchOptions): Promise<BenchSection> {
  const runs = opts.quick ? 10 : 40;
  const photo = await twoMbPhoto();
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': photo.length }).end(photo));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo`;
  const dir = mkdtempSync(join(tmpdir(), 'media-bench-'));
  const download = async () => Buffer.from(await (await request(url)).body.arrayBuffer());
  const ingest: number[] = [];
  const floor: number[] = [];
  try {
    for (let i = 0; i < runs + 3; i++) {
      let start = performance.now();
      const data = await download();
      const type = sniffType(data);
      const prepared = await prepareImage(data, 1568);
      stageFile(join(dir, 'inbox'), i * 2, safeFileName('IMG_0001.jpg', type, 'photo'), prepared.jpeg);
      const ingestMs = performance.now() - start;
      start = performance.now();
      const plain = await download();
      stageFile(join(dir, 'inbox'), i * 2 + 1, 'photo.jpg', plain);
      const floorMs = performance.now() - start;
      if (i >= 3) {
        ingest.push(ingestMs);
        floor.push(floorMs);
      }
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const p50 = percentile(ingest, 50);
  const floorP50 = percentile(floor, 50);
  return {
    title: `Media: taking in a ${(photo.length / 1024 / 1024).toFixed(1)} MB photo (${runs} runs)`,
    rows: [
      ['ingest p50 (download, sniff, resize, strip, stage)', fmtMs(p50), `floor ${fmtMs(floorP50)} (download + stage only), ${(p50 / floorP50).toFixed(1)}×`],
      ['ingest p95', fmtMs(percentile(ingest, 95)), ''],
      ['share of a turn', `${((p50 / (p50 + MODEL_TURN_MS)) * 100).toFixed(1)} %`, `with a ${MODEL_TURN_MS} ms model answer`],
    ],
  };
}

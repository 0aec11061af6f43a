import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundAttachment } from '../../channels/channel.js';
import type { Config } from '../../src/config/load.js';
import { TurnImages } from '../../src/media/turn-images.js';
import { prepareTurnMedia } from '../../src/media/turn-media.js';
import { mediaDeps, message, tempGroup } from '../helpers/media-ingest.js';

/** No provider marks the model as seeing images: enough for these tests. */
const cfg = { providers: [], enclave: { prices: {} } } as unknown as Config;
const doc = (ref: string): InboundAttachment => ({ kind: 'document', platformRef: ref, name: `${ref}.txt` });

test('all of a turn\'s files share one deadline: when it fires, no later file starts', async () => {
  const deadlines: AbortController[] = [];
  const fetched: string[] = [];
  let started!: () => void;
  const firstStarted = new Promise<void>((resolve) => (started = resolve));
  const deps = mediaDeps(
    (attachment, limits) => {
      fetched.push(attachment.platformRef);
      if (attachment.platformRef !== 'a1') return Promise.resolve(Buffer.from('late text'));
      started();
      return new Promise((_, reject) => limits.signal?.addEventListener('abort', () => reject(new Error('stopped'))));
    },
    {},
    { timeout: () => {
      const c = new AbortController();
      deadlines.push(c);
      return c.signal;
    } },
  );
  const turn = prepareTurnMedia({ ...deps, images: new TurnImages() }, cfg, tempGroup(), 'm', [message(1, doc('a1'), doc('a2')), message(2, doc('b1'))], new AbortController().signal);
  await firstStarted;
  assert.equal(deadlines.length, 1, 'one deadline for the turn');
  deadlines[0]!.abort();
  const media = await turn;
  assert.deepEqual(fetched, ['a1'], 'nothing was fetched after the deadline');
  assert.equal(deadlines.length, 1);
  const notices = [...media.values()].flatMap((m) => m.notices);
  assert.equal(notices.filter((n) => /took too long/.test(n)).length, 3, 'each file left out says so');
});

test('at most media.maxFilesPerTurn files are taken in across the turn\'s messages; the rest get a notice', async () => {
  const fetched: string[] = [];
  const deps = mediaDeps(async (attachment) => {
    fetched.push(attachment.platformRef);
    return Buffer.from(`text of ${attachment.platformRef}`);
  }, { maxFilesPerTurn: 3 });
  const media = await prepareTurnMedia({ ...deps, images: new TurnImages() }, cfg, tempGroup(), 'm', [message(1, doc('a1'), doc('a2')), message(2, doc('b1'), doc('b2')), message(3, doc('c1'))], new AbortController().signal);
  assert.deepEqual(fetched, ['a1', 'a2', 'b1']);
  assert.deepEqual(media.get(1)?.notices, []);
  assert.match(media.get(2)?.notices.join(' ') ?? '', /at most 3 files at a time/);
  assert.match(media.get(3)?.notices.join(' ') ?? '', /at most 3 files at a time/);
});

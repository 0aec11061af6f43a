import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inboxDirOf } from '../../src/media/inbox-dir.js';
import { ingestMessageMedia } from '../../src/media/ingest.js';
import { makeInboxRoom, stageFile } from '../../src/media/stage.js';
import { mediaDeps, message, tempGroup } from '../helpers/media-ingest.js';

const KB = 1024;
const text = (kb: number, fill = 'a') => Buffer.alloc(kb * KB, fill);
const doc = (ref: string) => ({ kind: 'document' as const, platformRef: ref, name: `${ref}.txt` });
const folders = (inbox: string) => (existsSync(inbox) ? readdirSync(inbox).sort((a, b) => Number(a) - Number(b)) : []);

test('staging prunes the oldest message folders until the inbox fits its byte cap', async () => {
  const group = tempGroup();
  const inbox = inboxDirOf(group);
  for (const id of [1, 2, 3]) stageFile(inbox, id, 'old.txt', text(40));
  // 0.1 MB cap (~102 KB): 120 KB are there; a 30 KB file needs the two oldest folders gone.
  const deps = mediaDeps(async () => text(30, 'b'), { inboxMaxMb: 0.1 });
  const out = await ingestMessageMedia(deps, group, message(4, doc('new')), false, new AbortController().signal);
  assert.deepEqual(out.notices, []);
  assert.deepEqual(folders(inbox), ['3', '4']);
  assert.deepEqual(readdirSync(join(inbox, '4')), ['new.txt']);
});

test('a file larger than the whole inbox cap is not staged and the chat is told', async () => {
  const group = tempGroup();
  const inbox = inboxDirOf(group);
  stageFile(inbox, 1, 'keep.txt', text(10));
  const deps = mediaDeps(async () => text(200), { inboxMaxMb: 0.1 });
  const out = await ingestMessageMedia(deps, group, message(2, doc('huge')), false, new AbortController().signal);
  assert.deepEqual(folders(inbox), ['1'], 'nothing staged, nothing older removed for it');
  assert.match(out.notices.join(' '), /larger than 0\.1 MB/);
  assert.match(out.text.join(' '), /larger than the inbox may hold/);
});

test('the message being staged keeps its own earlier files', () => {
  const group = tempGroup();
  const inbox = inboxDirOf(group);
  stageFile(inbox, 7, 'first.txt', text(60));
  assert.equal(makeInboxRoom(inbox, 7, 60 * KB, 100 * KB), true);
  assert.deepEqual(folders(inbox), ['7']);
  assert.equal(makeInboxRoom(inbox, 7, 101 * KB, 100 * KB), false);
});

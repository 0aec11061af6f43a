import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { silentLogger } from '../../src/logger.js';
import type { AuditEntry } from '../../src/audit/types.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { dataUrl, imageTiles, prepareImage } from '../../src/media/image.js';
import { imagePromptTokens } from '../../src/ledger/pricing.js';
import { MAX_IMAGE_PARTS_PER_REQUEST } from '../../src/proxy/request-filter.js';
import { TurnImages } from '../../src/media/turn-images.js';
import { Cooldowns } from '../../src/proxy/cooldowns.js';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { createTranscriber } from '../../src/proxy/transcription-call.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { voiceNote } from '../helpers/media-fixtures.js';
import { serveProxy } from '../helpers/proxy-server.js';

const NOON = Date.UTC(2030, 5, 10, 12);
const VAULT_SECRET = 'tg-token-9f8e7d6c5b4a39281706';
const PRICE = { input: 1, output: 2, vision: true, imageTokensPerTile: 400, imageBaseTokens: 100 };
/** gpt-4o-mini's own image prices: 5667 tokens a 512 tile plus 2833 an image. */
const MINI = { input: 1, output: 2, vision: true, imageTokensPerTile: 5667, imageBaseTokens: 2833 };
const BLIND = { input: 1, output: 2 };

interface LedgerRow {
  kind: string;
  group_name: string;
  model: string;
  micros: number;
  outcome: string | null;
}

async function rig(t: TestContext, dailyUsd = 10, model0 = 'eye', fallbacks: string[] = []) {
  const model = await FakeModel.start();
  const group = testGroup({ name: 'g', model: model0, fallbacks, budget: { dailyUsd } });
  const other = testGroup({ name: 'other', model: 'eye' });
  const groups = new Map([group, other].map((g) => [g.name, g]));
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const images = new TurnImages();
  const providers: ProviderConfig[] = [{ name: 'p', baseUrl: model.baseUrl, prices: { eye: PRICE, mini: MINI, blind: BLIND, 'whisper-1': { input: 0, output: 0, perMinute: 0.6 } }, timeoutSeconds: 5 }];
  const ledger = new SqliteLedger({ db, groupLimits: (g) => groups.get(g)!.budget, globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => NOON });
  const budgetRefusals: string[] = [];
  const proxy = createModelProxy({
    groups: () => groups, providers: () => providers, globalPrices: () => ({}), secret: () => undefined, ledger,
    audit: { append: (e) => audit.push(e) }, cooldownMs: 60_000, log: silentLogger(),
    hostImages: (g, url) => images.tiles(g, url),
  });
  const transcribe = createTranscriber({
    config: () => ({ provider: 'p', model: 'whisper-1' }), providers: () => providers, globalPrices: () => ({}), secret: () => undefined,
    secretValues: () => [VAULT_SECRET], ledger, audit: { append: (e) => audit.push(e) }, cooldowns: new Cooldowns(60_000, () => NOON), log: silentLogger(),
    onBudgetRefused: (g) => budgetRefusals.push(g),
  });
  const { origin } = await serveProxy(t, proxy, model, db);
  const ask = async (g: string, content: unknown, asked = model0) => {
    const res = await fetch(`${origin}/g/${g}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: asked, messages: [{ role: 'user', content }] }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  const rows = () => db.prepare('SELECT kind, group_name, model, micros, outcome FROM ledger ORDER BY id').all() as LedgerRow[];
  return { model, group, images, audit, ask, rows, transcribe, budgetRefusals };
}

/** A photo full of detail (random pixels), so its base64 is long: the case a byte count would overprice. */
async function hostImage() {
  const noise = Buffer.alloc(1200 * 800 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const detailed = await sharp(noise, { raw: { width: 1200, height: 800, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
  const prepared = await prepareImage(detailed, 1024);
  const tiles = imageTiles(prepared.width, prepared.height);
  return { url: dataUrl('image/jpeg', prepared.jpeg), tiles, tokens: imagePromptTokens(PRICE, { count: 1, tiles }) };
}

test('an image the host built for the group\'s turn goes upstream, priced by its tiles instead of its base64 bytes', async (t) => {
  const r = await rig(t);
  const image = await hostImage();
  r.images.set('g', [image]);
  const res = await r.ask('g', [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: image.url, detail: 'high', fetch: 'https://x' } }]);
  assert.equal(res.status, 200);
  const sent = (r.model.requests.at(-1)!.body.messages as { content: { type: string; image_url?: Record<string, unknown> }[] }[])[0]!.content;
  assert.deepEqual(sent[1], { type: 'image_url', image_url: { url: image.url, detail: 'high' } }, 'rebuilt from known keys only');
  const reserve = r.rows().find((row) => row.kind === 'reserve')!;
  const base64Bytes = image.url.length;
  assert.ok(base64Bytes > 100_000, 'a detailed photo');
  // Input price 1 USD per 1M tokens: the reservation in micros is the token bound (plus output).
  assert.ok(reserve.micros >= image.tokens + 4096 * 2, 'the image tokens are reserved, with the output');
  assert.ok(reserve.micros < base64Bytes, `priced by tiles (${image.tokens} tokens), not by ${base64Bytes} bytes of base64`);
});

test('an image the host did not build is refused: a remote URL, an agent-made data: URL, another group\'s photo, a finished turn\'s', async (t) => {
  const r = await rig(t);
  const image = await hostImage();
  const agentMade = dataUrl('image/png', Buffer.from('secret memory contents'));
  r.images.set('other', [image]);
  for (const url of ['https://attacker.example/x.png?d=c2VjcmV0', agentMade, image.url]) {
    const res = await r.ask('g', [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url } }]);
    assert.equal(res.status, 400, url.slice(0, 40));
    assert.equal(res.body.error!.code, 'content_not_allowed');
  }
  r.images.set('g', [image]);
  r.images.clear('g');
  assert.equal((await r.ask('g', [{ type: 'image_url', image_url: { url: image.url } }])).body.error!.code, 'content_not_allowed');
  r.images.set('g', [image]);
  const badDetail = await r.ask('g', [{ type: 'image_url', image_url: { url: image.url, detail: { x: 1 } } }]);
  assert.equal(badDetail.body.error!.code, 'content_not_allowed');
  assert.equal(r.model.requests.length, 0, 'nothing reached the provider');
  const denials = r.audit.filter((e) => e.kind === 'denial' && e.detail.reason === 'content_not_allowed');
  assert.equal(denials.length, 5);
  assert.equal(denials[0]!.detail.remote, true);
});

test('an image is reserved at the called model\'s own image prices, per occurrence, also on failover', async (t) => {
  const r = await rig(t, 10, 'eye', ['mini']);
  const image = await hostImage();
  r.images.set('g', [image]);
  r.model.push({ status: 503, body: { error: { message: 'overloaded' } } });
  const parts = [{ type: 'text', text: 'compare' }, { type: 'image_url', image_url: { url: image.url } }, { type: 'image_url', image_url: { url: image.url } }];
  const res = await r.ask('g', parts);
  assert.equal(res.status, 200);
  const [eye, mini] = r.rows().filter((row) => row.kind === 'reserve');
  assert.equal(eye!.model, 'eye');
  assert.equal(mini!.model, 'mini', 'the failover model answered');
  // Input price 1 USD per 1M tokens: micros count the prompt tokens. gpt-4o-mini charges 5667 a tile + 2833 an image.
  const miniImageTokens = 2 * (2833 + image.tiles * 5667);
  assert.ok(mini!.micros >= miniImageTokens, `the failover reserved ${mini!.micros} micros, at least ${miniImageTokens} for two images at its prices`);
  assert.ok(eye!.micros >= 2 * image.tokens && eye!.micros < miniImageTokens, 'the first model reserved at its own, lower prices, both occurrences');
});

test('a vision model without its own image prices is reserved at the high defaults', () => {
  assert.ok(imagePromptTokens({ input: 1, output: 1, vision: true }, { count: 1, tiles: 4 }) >= 2833 + 4 * 5667);
});

test('a photo repeated more often than a request may carry is refused before anything is sent', async (t) => {
  const r = await rig(t);
  const image = await hostImage();
  r.images.set('g', [image]);
  const repeated = Array.from({ length: MAX_IMAGE_PARTS_PER_REQUEST + 1 }, () => ({ type: 'image_url', image_url: { url: image.url } }));
  const res = await r.ask('g', repeated);
  assert.equal(res.status, 400);
  assert.equal(res.body.error!.code, 'too_many_images');
  assert.match(res.body.error!.message, /include each photo once/);
  assert.equal(r.model.requests.length, 0);
});

test('an image part for a model not marked vision is refused with a sentence the agent can act on', async (t) => {
  const r = await rig(t, 10, 'blind');
  const image = await hostImage();
  r.images.set('g', [image]);
  const res = await r.ask('g', [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: image.url } }]);
  assert.equal(res.status, 400);
  assert.equal(res.body.error!.code, 'model_without_vision');
  assert.match(res.body.error!.message, /does not read images/);
  assert.equal(r.model.requests.length, 0, 'the photo never reached the non-vision model');
  assert.equal((await r.ask('g', [{ type: 'text', text: 'just text' }])).status, 200, 'text still works');
});

test('a transcript that quotes a secret the host holds reaches the agent without it', async (t) => {
  const r = await rig(t);
  r.model.transcriptionScript.push({ text: `Remind me: the token is ${VAULT_SECRET}, ok?`, duration: 3 });
  const result = await r.transcribe({ group: r.group, audio: voiceNote(), mime: 'audio/ogg', fileName: 'v.ogg', maxSeconds: 60, signal: new AbortController().signal });
  assert.ok(result.ok);
  assert.ok(!result.text.includes(VAULT_SECRET), result.text);
  assert.match(result.text, /^Remind me: the token is .+, ok\?$/);
});

test('a voice note is transcribed through the ledger: reserved at the longest allowed length, settled per minute, audited', async (t) => {
  const r = await rig(t);
  r.model.transcriptionScript.push({ text: ' Please remind me to buy milk tomorrow. ', duration: 30 });
  const result = await r.transcribe({ group: r.group, audio: voiceNote(), mime: 'audio/ogg', fileName: 'voice-note.ogg', maxSeconds: 600, signal: new AbortController().signal });
  assert.deepEqual(result, { ok: true, text: 'Please remind me to buy milk tomorrow.', seconds: 30 });
  const call = r.model.transcriptions[0]!;
  assert.equal(call.model, 'whisper-1');
  assert.deepEqual(call.audio, voiceNote(), 'the audio reached the endpoint as sent');
  assert.equal(call.fileType, 'audio/ogg');
  const [reserve, settle] = r.rows();
  assert.equal(reserve!.kind, 'reserve');
  assert.equal(reserve!.micros, 6_000_000, '10 minutes at 0.60 USD');
  assert.equal(settle!.kind, 'settle');
  assert.equal(settle!.micros, 300_000, 'half a minute at 0.60 USD');
  const audited = r.audit.find((e) => e.kind === 'model_call')!;
  assert.equal(audited.detail.purpose, 'transcription');
  assert.equal(audited.detail.micros, 300_000);
});

test('over budget nothing is sent to speech-to-text and the chat is told through the budget notice', async (t) => {
  const r = await rig(t, 1);
  const result = await r.transcribe({ group: r.group, audio: voiceNote(), mime: 'audio/ogg', fileName: 'v.ogg', maxSeconds: 600, signal: new AbortController().signal });
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, 'budget');
  assert.equal(r.model.transcriptions.length, 0, 'no upstream call');
  assert.deepEqual(r.budgetRefusals, ['g']);
  assert.equal(r.rows().length, 0);
  assert.ok(r.audit.some((e) => e.kind === 'model_refused' && e.detail.reason === 'budget' && e.detail.purpose === 'transcription'));
});

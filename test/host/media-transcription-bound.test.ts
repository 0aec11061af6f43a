import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { AuditEntry } from '../../src/audit/types.js';
import type { ProviderConfig } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { silentLogger } from '../../src/logger.js';
import { audioSeconds, audioSecondsBound, FLOOR_BYTES_PER_SECOND } from '../../src/media/audio-duration.js';
import { ingestMessageMedia } from '../../src/media/ingest.js';
import { Cooldowns } from '../../src/proxy/cooldowns.js';
import { createTranscriber } from '../../src/proxy/transcription-call.js';
import { FakeModel } from '../fakes/fake-model.js';
import { voiceNote } from '../helpers/media-fixtures.js';
import { mediaDeps, message, tempGroup } from '../helpers/media-ingest.js';

const NOON = Date.UTC(2030, 5, 10, 12);
const PER_MINUTE = 0.6;

/** 8 kHz 8-bit mono PCM; `byteRate` may be forged (the real one is 8000). */
function wav(dataBytes: number, byteRate = 8000): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(byteRate, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write('data', 36);
  h.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([h, Buffer.alloc(dataBytes, 0x80)]);
}

/** An MP3 (ID3 tag, then bytes): nothing in it states a duration. */
const mp3 = (bytes: number) => Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(bytes - 10, 0x55)]);

async function rig(t: TestContext) {
  const model = await FakeModel.start();
  t.after(() => model.close());
  const group = tempGroup();
  const db = openDatabase(':memory:');
  const audit: AuditEntry[] = [];
  const providers: ProviderConfig[] = [{ name: 'p', baseUrl: model.baseUrl, prices: { 'whisper-1': { input: 0, output: 0, perMinute: PER_MINUTE } }, timeoutSeconds: 5 }];
  const ledger = new SqliteLedger({ db, groupLimits: () => ({ dailyUsd: 10 }), globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => NOON });
  const transcribe = createTranscriber({
    config: () => ({ provider: 'p', model: 'whisper-1' }), providers: () => providers, globalPrices: () => ({}), secret: () => undefined, secretValues: () => [],
    ledger, audit: { append: (e) => audit.push(e) }, cooldowns: new Cooldowns(60_000, () => NOON), log: silentLogger(),
  });
  const ingest = (id: number, audio: Buffer, durationSeconds?: number) =>
    ingestMessageMedia(mediaDeps(async () => audio, {}, { transcribe }), group, message(id, { kind: 'voice', platformRef: 'v', ...(durationSeconds !== undefined && { durationSeconds }) }), false, new AbortController().signal);
  const rows = () => db.prepare('SELECT kind, micros FROM ledger ORDER BY id').all() as { kind: string; micros: number }[];
  return { model, audit, ingest, rows };
}

const micros = (seconds: number) => Math.ceil(PER_MINUTE * (seconds / 60) * 1e6);

test('a WAV whose header forges its byteRate is not believed: twenty minutes of audio are refused before anything is sent', async (t) => {
  const r = await rig(t);
  const lying = wav(8000 * 1200, 0xffffffff);
  assert.equal(audioSeconds(lying, 'audio/wav'), undefined, 'the forged header is not trusted');
  assert.equal(audioSeconds(wav(8000 * 5), 'audio/wav'), 5, 'a consistent header is');
  const out = await r.ingest(1, lying, 2);
  assert.equal(r.model.transcriptions.length, 0, 'nothing reached the transcription endpoint');
  assert.deepEqual(r.rows(), [], 'nothing reserved');
  assert.match(out.text.join('\n'), /not transcribed: it may be longer than 10:00/);
  assert.match(out.notices.join('\n'), /longer than 10:00/);
});

test('an MP3 with no stated duration is bounded by its size: a long one is refused, a short one reserved on its bound', async (t) => {
  const r = await rig(t);
  const long = mp3(700 * FLOOR_BYTES_PER_SECOND);
  assert.equal(audioSecondsBound(long, 'audio/mpeg'), 700);
  await r.ingest(1, long);
  assert.equal(r.model.transcriptions.length, 0, 'the long MP3 was never sent');

  r.model.transcriptionScript.push({ text: 'short clip', duration: 20 });
  const short = mp3(100 * FLOOR_BYTES_PER_SECOND);
  const out = await r.ingest(2, short);
  assert.equal(r.model.transcriptions.length, 1);
  assert.match(out.text.join('\n'), /short clip/);
  assert.deepEqual(r.rows().map((row) => [row.kind, row.micros]), [['reserve', micros(100)], ['settle', micros(20)]]);
});

test('a provider that reports more audio than was reserved is charged the reservation, and the overrun is audited', async (t) => {
  const r = await rig(t);
  const note = voiceNote();
  const bound = Math.ceil(audioSecondsBound(note, 'audio/ogg'));
  assert.ok(bound < 600);
  r.model.transcriptionScript.push({ text: 'hello', duration: 3600 });
  await r.ingest(1, note);
  assert.equal(r.model.transcriptions.length, 1);
  assert.deepEqual(r.rows().map((row) => [row.kind, row.micros]), [['reserve', micros(bound)], ['settle', micros(bound)]]);
  const call = r.audit.find((e) => e.kind === 'model_call');
  assert.equal(call?.detail.overrun_micros, micros(3600) - micros(bound));
});

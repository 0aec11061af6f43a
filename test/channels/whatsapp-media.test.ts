import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encryptedStream, type MediaType, type proto, type WAMessage } from '@whiskeysockets/baileys';
import { AttachmentTooLargeError, PermanentSendError, type InboundMessage } from '../../channels/channel.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { WhatsAppChannel } from '../../channels/whatsapp/whatsapp-channel.js';
import { silentLogger } from '../../src/logger.js';
import { FakeWhatsApp } from '../fakes/fake-whatsapp.js';
import { FakeWhatsAppMedia } from '../fakes/fake-whatsapp-media.js';
import { waitFor } from '../helpers/wait.js';

const ALICE = '491701234567@s.whatsapp.net';
const MB = 1024 * 1024;
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const limits = (maxBytes: number, signal = new AbortController().signal) => ({ maxBytes, signal });

async function setup() {
  const home = mkdtempSync(join(tmpdir(), 'enclave-wa-media-'));
  dirs.push(home);
  const fake = await FakeWhatsApp.start();
  fake.autoOpen = true;
  const media = await FakeWhatsAppMedia.start();
  const state = new Map<string, string>();
  const config = whatsappConfigSchema.parse({ enabled: true, reconnect: { baseMs: 5, maxMs: 20 }, rateLimit: { intervalMs: 0, burst: 1 } });
  const channel = new WhatsAppChannel(config, {}, { log: silentLogger(), state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' }, {
    authDir: join(home, 'wa'),
    makeSocket: fake.makeSocket,
    onQr: () => undefined,
    mediaDispatcher: media.dispatcher,
  });
  const inbound: InboundMessage[] = [];
  await channel.connect(async (msg) => {
    inbound.push(msg);
    return { status: 'queued', settled: Promise.resolve('none') };
  });
  return { fake, media, channel, inbound, close: async () => { await channel.disconnect(); await media.close(); } };
}

/** Encrypts bytes the way WhatsApp stores media (Baileys' own encryptedStream) and serves them at a direct path. */
async function stored(media: FakeWhatsAppMedia, data: Buffer, type: MediaType, serving?: 'hang' | 'unsized') {
  const enc = await encryptedStream(data, type);
  const directPath = `/v/t62.7118-24/${randomBytes(6).toString('hex')}.enc?ccb=11-4`;
  media.add(directPath.split('?')[0]!, readFileSync(enc.encFilePath), serving);
  rmSync(enc.encFilePath, { force: true });
  return { directPath, mediaKey: enc.mediaKey, fileLength: data.length };
}

function message(id: string, content: proto.IMessage): WAMessage {
  return { key: { remoteJid: ALICE, fromMe: false, id }, message: content, messageTimestamp: Math.floor(Date.now() / 1000), pushName: 'Alice' };
}

test('whatsapp: a photo with a caption, a captionless photo, a voice note and a PDF are described and downloaded from the media host', async () => {
  const s = await setup();
  try {
    const photo = randomBytes(20_000);
    const bare = randomBytes(3000);
    const voice = randomBytes(9000);
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    const p = await stored(s.media, photo, 'image');
    const b = await stored(s.media, bare, 'image');
    const v = await stored(s.media, voice, 'audio');
    const d = await stored(s.media, pdf, 'document');
    s.fake.deliver(message('m1', { imageMessage: { ...p, mimetype: 'image/jpeg', caption: 'what is this?', url: 'https://evil.example/steal' } }));
    s.fake.deliver(message('m2', { imageMessage: { ...b, mimetype: 'image/jpeg' } }));
    s.fake.deliver(message('m3', { audioMessage: { ...v, mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 7 } }));
    s.fake.deliver(message('m4', { documentMessage: { ...d, mimetype: 'application/pdf', fileName: 'report.pdf' } }));
    const [m1, m2, m3, m4] = await waitFor('four messages', () => s.inbound.length >= 4 && s.inbound);
    assert.equal(m1!.text, 'what is this?');
    assert.equal(m2!.text, '', 'a captionless photo is a message with empty text');
    assert.deepEqual([m1!.attachments?.[0]?.kind, m1!.attachments?.[0]?.bytes, m1!.attachments?.[0]?.mime], ['image', 20_000, 'image/jpeg']);
    assert.deepEqual([m3!.attachments?.[0]?.kind, m3!.attachments?.[0]?.durationSeconds], ['voice', 7]);
    assert.deepEqual([m4!.attachments?.[0]?.kind, m4!.attachments?.[0]?.name], ['document', 'report.pdf']);
    assert.ok((await s.channel.downloadAttachment(m1!.attachments![0]!, limits(MB))).equals(photo));
    assert.ok((await s.channel.downloadAttachment(m2!.attachments![0]!, limits(MB))).equals(bare));
    assert.ok((await s.channel.downloadAttachment(m3!.attachments![0]!, limits(MB))).equals(voice));
    assert.ok((await s.channel.downloadAttachment(m4!.attachments![0]!, limits(MB))).equals(pdf));
    assert.ok(s.media.requests.every((r) => r.host === 'mmg.whatsapp.net'), 'only the media host, never the URL the message named');
  } finally {
    await s.close();
  }
});

test('whatsapp: a stated size over the cap is refused before download; an understated one is cut; a hang stops on abort; a path naming another host is refused', async () => {
  const s = await setup();
  try {
    const big = await stored(s.media, randomBytes(100), 'image');
    s.fake.deliver(message('b1', { imageMessage: { ...big, fileLength: 50 * MB, mimetype: 'image/jpeg' } }));
    const liar = await stored(s.media, randomBytes(3 * MB), 'document', 'unsized');
    s.fake.deliver(message('b2', { documentMessage: { ...liar, fileLength: 100, fileName: 'x.bin' } }));
    const stuck = await stored(s.media, randomBytes(5000), 'audio', 'hang');
    s.fake.deliver(message('b3', { audioMessage: { ...stuck, ptt: true } }));
    const [b1, b2, b3] = await waitFor('three messages', () => s.inbound.length >= 3 && s.inbound);
    await assert.rejects(s.channel.downloadAttachment(b1!.attachments![0]!, limits(10 * MB)), AttachmentTooLargeError);
    assert.equal(s.media.requests.length, 0);
    await assert.rejects(s.channel.downloadAttachment(b2!.attachments![0]!, limits(MB)), /counted while downloading/);
    const stop = new AbortController();
    const download = s.channel.downloadAttachment(b3!.attachments![0]!, limits(MB, stop.signal));
    await waitFor('the stuck download to start', () => s.media.requests.length === 2);
    stop.abort(new Error('download timed out'));
    await assert.rejects(download, /download timed out/);
    const forged = JSON.stringify({ type: 'image', directPath: '@evil.example/x', mediaKey: 'AAAA' });
    await assert.rejects(s.channel.downloadAttachment({ kind: 'image', platformRef: forged }, limits(MB)), /leaves the media host/);
  } finally {
    await s.close();
  }
});

test('whatsapp: sendFile sends a photo and a document with captions and a voice note as ptt; failures are classified', async () => {
  const s = await setup();
  try {
    const photo = randomBytes(2048);
    const pdf = randomBytes(4096);
    const voice = randomBytes(1024);
    await s.channel.sendFile({ chatId: ALICE, kind: 'image', name: 'chart.png', mime: 'image/png', data: photo, caption: 'This week' });
    await s.channel.sendFile({ chatId: ALICE, kind: 'document', name: 'report.pdf', mime: 'application/pdf', data: pdf, caption: 'the report' });
    await s.channel.sendFile({ chatId: ALICE, kind: 'voice', name: 'note.ogg', mime: 'audio/ogg', data: voice });
    const contents = s.fake.sent.map((m) => m.content as Record<string, unknown>);
    assert.deepEqual(contents.map((c) => [Object.keys(c).sort().join(','), c.caption, c.ptt, c.fileName]), [
      ['caption,image,mimetype', 'This week', undefined, undefined],
      ['caption,document,fileName,mimetype', 'the report', undefined, 'report.pdf'],
      ['audio,mimetype,ptt', undefined, true, undefined],
    ]);
    assert.ok((contents[0]!.image as Buffer).equals(photo) && (contents[1]!.document as Buffer).equals(pdf) && (contents[2]!.audio as Buffer).equals(voice));
    await assert.rejects(s.channel.sendFile({ chatId: 'not-a-jid', kind: 'document', name: 'a', mime: 'text/plain', data: Buffer.from('x') }), PermanentSendError);
  } finally {
    await s.close();
  }
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AttachmentTooLargeError, PermanentSendError, RetryAfterError, type ChannelStateStore, type InboundMessage, type InboundReceipt } from '../../channels/channel.js';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { silentLogger } from '../../src/logger.js';
import { packageRoot } from '../../src/paths.js';
import { FakeTelegram } from '../fakes/fake-telegram.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;

function fixture(name: string): { message: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(packageRoot(), 'test', 'channels', 'fixtures', 'telegram', name), 'utf8')) as { message: Record<string, unknown> };
}

function memoryState(): ChannelStateStore {
  const map = new Map<string, string>();
  return { get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

/** A TelegramChannel through grammy on the fake Bot API, collecting what it hands to the host. */
async function start(t: TestContext): Promise<{ fake: FakeTelegram; channel: TelegramChannel; received: InboundMessage[] }> {
  const fake = await FakeTelegram.start();
  t.after(() => fake.close());
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: fake.apiRoot, reconnect: { baseMs: 5, maxMs: 20 }, rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 5 } });
  const channel = new TelegramChannel(config, { token: fake.token }, { log: silentLogger(), state: memoryState(), assistantName: 'Enclave' });
  const received: InboundMessage[] = [];
  await channel.connect(async (m): Promise<InboundReceipt> => {
    received.push(m);
    return { status: 'queued', settled: Promise.resolve('none') };
  });
  t.after(() => channel.disconnect());
  return { fake, channel, received };
}

const limits = (maxBytes: number, signal = new AbortController().signal) => ({ maxBytes, signal });

test('telegram: a photo with a caption (recorded update) arrives with its largest size described, and downloads byte for byte', async (t) => {
  const { fake, channel, received } = await start(t);
  const update = fixture('t19-dm-approved-photo-caption.json');
  const photo = randomBytes(162061);
  const largest = (update.message.photo as { file_id: string }[]).at(-1)!.file_id;
  fake.addFile(largest, photo);
  fake.pushUpdate(update);
  const msg = await waitFor('the photo message', () => received[0]);
  assert.equal(msg.text, 'www.example.com');
  assert.equal(msg.isDirect, true);
  assert.deepEqual(msg.attachments, [{ kind: 'image', mime: 'image/jpeg', bytes: 162061, platformRef: largest }]);
  const bytes = await channel.downloadAttachment(msg.attachments![0]!, limits(MB));
  assert.ok(bytes.equals(photo));
});

test('telegram: a photo without a caption in a DM is still a message, with empty text', async (t) => {
  const { fake, channel, received } = await start(t);
  const update = fixture('t20-dm-stranger-photo-no-caption.json');
  const sizes = update.message.photo as { file_id: string; width: number; height: number }[];
  const largest = sizes.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  const photo = randomBytes(5000);
  fake.addFile(largest.file_id, photo);
  fake.pushUpdate(update);
  const msg = await waitFor('the captionless photo', () => received[0]);
  assert.equal(msg.text, '');
  assert.equal(msg.attachments?.[0]?.kind, 'image');
  assert.equal(msg.attachments?.[0]?.platformRef, largest.file_id);
  assert.ok((await channel.downloadAttachment(msg.attachments![0]!, limits(MB))).equals(photo));
});

test('telegram: a voice note (recorded update) and a PDF document are described with duration, name and type', async (t) => {
  const { fake, channel, received } = await start(t);
  const voice = randomBytes(23000);
  fake.addFile('AwADBAADbXXXXXXXXXXXGBdhD2l6_XX', voice);
  fake.pushUpdate(fixture('t21-dm-voice.json'));
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
  fake.addFile('BQACAgPDF', pdf);
  fake.pushMessage({ chat: { id: 4201, type: 'private', first_name: 'Alice' }, document: { file_id: 'BQACAgPDF', file_unique_id: 'AgPDF', file_name: 'report.pdf', mime_type: 'application/pdf', file_size: pdf.length } });
  const [note, doc] = await waitFor('both messages', () => received.length >= 2 && received);
  assert.equal(note!.text, '');
  assert.deepEqual(note!.attachments, [{ kind: 'voice', mime: 'audio/ogg', bytes: 23000, durationSeconds: 5, platformRef: 'AwADBAADbXXXXXXXXXXXGBdhD2l6_XX' }]);
  assert.deepEqual(doc!.attachments, [{ kind: 'document', mime: 'application/pdf', bytes: pdf.length, name: 'report.pdf', platformRef: 'BQACAgPDF' }]);
  assert.ok((await channel.downloadAttachment(note!.attachments![0]!, limits(MB))).equals(voice));
  assert.ok((await channel.downloadAttachment(doc!.attachments![0]!, limits(MB))).equals(pdf));
});

test('telegram: an over-limit size stated by the message or by getFile is refused before any byte is downloaded', async (t) => {
  const { fake, channel } = await start(t);
  fake.addFile('big', randomBytes(100), { statedSize: 50 * MB });
  await assert.rejects(channel.downloadAttachment({ kind: 'image', bytes: 50 * MB, platformRef: 'big' }, limits(10 * MB)), AttachmentTooLargeError);
  assert.equal(fake.callsTo('getFile').length, 0, 'the message said so: not even getFile');
  await assert.rejects(channel.downloadAttachment({ kind: 'image', platformRef: 'big' }, limits(10 * MB)), AttachmentTooLargeError);
  assert.equal(fake.callsTo('getFile').length, 1);
  assert.deepEqual(fake.fileRequests, [], 'no download was started');
});

test('telegram: a download that streams past the cap (its size understated) is cut off', async (t) => {
  const { fake, channel } = await start(t);
  fake.addFile('liar', randomBytes(3 * MB), { statedSize: 1000, serving: 'unsized' });
  await assert.rejects(channel.downloadAttachment({ kind: 'document', bytes: 1000, platformRef: 'liar' }, limits(MB)), (err: unknown) => {
    assert.ok(err instanceof AttachmentTooLargeError);
    assert.match(err.message, /counted while downloading/);
    return true;
  });
});

test('telegram: a download that hangs stops when the host aborts it', async (t) => {
  const { fake, channel } = await start(t);
  fake.addFile('stuck', randomBytes(1000), { serving: 'hang' });
  const stop = new AbortController();
  const download = channel.downloadAttachment({ kind: 'voice', platformRef: 'stuck' }, limits(MB, stop.signal));
  await waitFor('the download to start', () => fake.fileRequests.length === 1);
  stop.abort(new Error('download timed out'));
  await assert.rejects(download, /download timed out/);
});

test('telegram: sendFile uploads a photo, a document and a voice note with their own methods, caption, topic and reply', async (t) => {
  const { fake, channel } = await start(t);
  const photo = randomBytes(2048);
  const pdf = randomBytes(4096);
  const voice = randomBytes(1024);
  await channel.sendFile({ chatId: '-1001234', kind: 'image', name: 'chart.png', mime: 'image/png', data: photo, caption: 'This week', threadId: '77', replyTo: '12' });
  await channel.sendFile({ chatId: '4201', kind: 'document', name: 'report.pdf', mime: 'application/pdf', data: pdf });
  await channel.sendFile({ chatId: '4201', kind: 'voice', name: 'note.ogg', mime: 'audio/ogg', data: voice });
  assert.deepEqual(fake.uploads.map((u) => [u.method, u.chatId, u.fileName, u.caption]), [
    ['sendPhoto', '-1001234', 'chart.png', 'This week'],
    ['sendDocument', '4201', 'report.pdf', undefined],
    ['sendVoice', '4201', 'note.ogg', undefined],
  ]);
  assert.ok(fake.uploads[0]!.data.equals(photo) && fake.uploads[1]!.data.equals(pdf) && fake.uploads[2]!.data.equals(voice));
  assert.equal(fake.uploads[0]!.params.message_thread_id, '77');
  assert.deepEqual(fake.uploads[0]!.params.reply_parameters, { message_id: 12, allow_sending_without_reply: true });
});

test('telegram: a refused upload is permanent, a rate-limited one says when to retry', async (t) => {
  const { fake, channel } = await start(t);
  const file = { chatId: '4201', kind: 'document' as const, name: 'a.txt', mime: 'text/plain', data: Buffer.from('hi') };
  fake.failNextSends({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
  await assert.rejects(channel.sendFile(file), PermanentSendError);
  fake.rateLimitNextSend(7);
  await assert.rejects(channel.sendFile(file), (err: unknown) => err instanceof RetryAfterError && err.retryAfterMs === 7000);
  await channel.sendFile(file);
  assert.equal(fake.uploads.length, 1);
});

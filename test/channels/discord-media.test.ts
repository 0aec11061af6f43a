import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AttachmentTooLargeError, PermanentSendError, RetryAfterError, type InboundMessage } from '../../channels/channel.js';
import { discordConfigSchema } from '../../channels/discord/config.js';
import { DiscordChannel } from '../../channels/discord/discord-channel.js';
import { silentLogger } from '../../src/logger.js';
import { FakeDiscord } from '../fakes/fake-discord.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const limits = (maxBytes: number, signal = new AbortController().signal) => ({ maxBytes, signal });

describe('Discord media through discord.js against the fake Discord', () => {
  let fake: FakeDiscord;
  let channel: DiscordChannel;
  const inbound: InboundMessage[] = [];
  const next = (n: number) => waitFor(`inbound message #${n}`, () => inbound[n - 1]);

  before(async () => {
    fake = await FakeDiscord.start();
    const state = new Map<string, string>();
    channel = new DiscordChannel(discordConfigSchema.parse({ enabled: true, apiBase: fake.apiBase }), { token: fake.token }, {
      log: silentLogger(),
      state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) },
      assistantName: 'Enclave',
    });
    await channel.connect(async (msg) => {
      inbound.push(msg);
      return { status: 'queued', settled: Promise.resolve('none') };
    });
  });

  after(async () => {
    await channel.disconnect();
    await fake.close();
  });

  test('a photo with a caption: described without its URL in the text, downloaded byte for byte', async () => {
    const photo = randomBytes(40_000);
    fake.userMessage({ content: `<@${fake.bot.id}> what is this?`, attachments: [{ name: 'cat.jpg', contentType: 'image/jpeg', data: photo }] });
    const msg = await next(1);
    assert.equal(msg.text, 'what is this?');
    assert.doesNotMatch(msg.text, /http/, 'no file URL reaches the agent');
    const [a] = msg.attachments!;
    assert.deepEqual({ ...a, platformRef: undefined }, { kind: 'image', mime: 'image/jpeg', bytes: 40_000, name: 'cat.jpg', platformRef: undefined });
    assert.ok((await channel.downloadAttachment(a!, limits(MB))).equals(photo));
  });

  test('a captionless photo in a DM, a voice message and a PDF', async () => {
    const photo = randomBytes(3000);
    const voice = randomBytes(9000);
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    fake.userMessage({ content: '', dm: true, attachments: [{ name: 'IMG_1.png', contentType: 'image/png', data: photo }] });
    fake.userMessage({ content: '', dm: true, voice: true, attachments: [{ name: 'voice-message.ogg', contentType: 'audio/ogg', data: voice, durationSecs: 4.5 }] });
    fake.userMessage({ content: 'read this', dm: true, attachments: [{ name: 'report.pdf', contentType: 'application/pdf', data: pdf }] });
    const [dmPhoto, note, doc] = [await next(2), await next(3), await next(4)];
    assert.equal(dmPhoto.text, '');
    assert.equal(dmPhoto.isDirect, true);
    assert.equal(dmPhoto.attachments?.[0]?.kind, 'image');
    assert.equal(note.attachments?.[0]?.kind, 'voice');
    assert.equal(note.attachments?.[0]?.durationSeconds, 4.5);
    assert.deepEqual([doc.attachments?.[0]?.kind, doc.attachments?.[0]?.name, doc.attachments?.[0]?.mime], ['document', 'report.pdf', 'application/pdf']);
    assert.ok((await channel.downloadAttachment(dmPhoto.attachments![0]!, limits(MB))).equals(photo));
    assert.ok((await channel.downloadAttachment(note.attachments![0]!, limits(MB))).equals(voice));
    assert.ok((await channel.downloadAttachment(doc.attachments![0]!, limits(MB))).equals(pdf));
  });

  test('over-limit stated size refused before download; an understated size cut while streaming; a hang stops on abort', async () => {
    const before = fake.fileRequests.length;
    await assert.rejects(channel.downloadAttachment({ kind: 'image', bytes: 50 * MB, platformRef: `${new URL(fake.apiBase).origin}/attachments/1/2/big.jpg` }, limits(10 * MB)), AttachmentTooLargeError);
    assert.equal(fake.fileRequests.length, before, 'nothing was downloaded');
    fake.userMessage({ content: '', dm: true, attachments: [{ name: 'liar.bin', data: randomBytes(3 * MB), statedSize: 100, serving: 'unsized' }] });
    fake.userMessage({ content: '', dm: true, attachments: [{ name: 'stuck.ogg', contentType: 'audio/ogg', data: randomBytes(100), serving: 'hang' }] });
    const [liar, stuck] = [await next(5), await next(6)];
    await assert.rejects(channel.downloadAttachment(liar.attachments![0]!, limits(MB)), /counted while downloading/);
    const stop = new AbortController();
    const download = channel.downloadAttachment(stuck.attachments![0]!, limits(MB, stop.signal));
    await waitFor('the stuck download to start', () => fake.fileRequests.some((p) => p.endsWith('stuck.ogg')));
    stop.abort(new Error('download timed out'));
    await assert.rejects(download, /download timed out/);
  });

  test('a URL on any other host is never fetched, whatever the message says', async () => {
    await assert.rejects(channel.downloadAttachment({ kind: 'image', platformRef: 'http://169.254.169.254/latest/meta-data' }, limits(MB)), /not the platform's file host/);
  });

  test('sendFile posts the photo, document and voice note with the caption as text, and classifies failures', async () => {
    const photo = randomBytes(2048);
    const pdf = randomBytes(4096);
    const voice = randomBytes(1024);
    const chat = fake.guild.channelId;
    await channel.sendFile({ chatId: chat, kind: 'image', name: 'chart.png', mime: 'image/png', data: photo, caption: 'This week @everyone' });
    await channel.sendFile({ chatId: chat, kind: 'document', name: 'report.pdf', mime: 'application/pdf', data: pdf });
    await channel.sendFile({ chatId: chat, kind: 'voice', name: 'note.ogg', mime: 'audio/ogg', data: voice });
    assert.deepEqual(fake.uploads.map((u) => [u.channelId, u.name, u.body.content]), [[chat, 'chart.png', 'This week @everyone'], [chat, 'report.pdf', ''], [chat, 'note.ogg', '']]);
    assert.ok(fake.uploads[0]!.data.equals(photo) && fake.uploads[1]!.data.equals(pdf) && fake.uploads[2]!.data.equals(voice));
    assert.deepEqual(fake.uploads[0]!.body.allowed_mentions, { parse: [], replied_user: true }, 'a caption never pings');

    const file = { chatId: chat, kind: 'document' as const, name: 'a.txt', mime: 'text/plain', data: Buffer.from('hi') };
    fake.failNext('POST', /\/messages$/, { status: 403, body: { message: 'Missing Permissions', code: 50013 } });
    await assert.rejects(channel.sendFile(file), PermanentSendError);
    fake.failNext('POST', /\/messages$/, { status: 429, body: { message: 'rate limited', retry_after: 2.5, global: false }, headers: { 'retry-after': '2.5', 'x-ratelimit-scope': 'user' } });
    await assert.rejects(channel.sendFile(file), RetryAfterError);
    assert.equal(fake.uploads.length, 3, 'failed posts were not taken');
  });
});

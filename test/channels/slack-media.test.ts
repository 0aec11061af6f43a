import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AttachmentTooLargeError, PermanentSendError, RetryAfterError, type InboundMessage } from '../../channels/channel.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { SlackChannel } from '../../channels/slack/slack-channel.js';
import { silentLogger } from '../../src/logger.js';
import { FakeSlack, type FileSpec } from '../fakes/fake-slack.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const limits = (maxBytes: number, signal = new AbortController().signal) => ({ maxBytes, signal });

describe('Slack media through bolt against the fake Slack', () => {
  let fake: FakeSlack;
  let channel: SlackChannel;
  let url: string;
  const inbound: InboundMessage[] = [];
  const next = (n: number) => waitFor(`inbound message #${n}`, () => inbound[n - 1]);

  before(async () => {
    fake = await FakeSlack.start();
    fake.users.set('UALICE', 'alice');
    fake.channels.set('CGENERAL', 'general');
    const config = slackConfigSchema.parse({ enabled: true, mode: 'http', apiUrl: fake.apiUrl, port: 0 });
    const state = new Map<string, string>();
    channel = new SlackChannel(config, { botToken: fake.botToken, signingSecret: fake.signingSecret }, {
      log: silentLogger(),
      state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) },
      assistantName: 'Enclave',
    }, { sendIntervalMs: 1 });
    await channel.connect(async (msg) => {
      inbound.push(msg);
      return { status: 'queued', settled: Promise.resolve('none') };
    });
    url = channel.receiverUrl()!;
  });

  after(async () => {
    await channel.disconnect();
    await fake.close();
  });

  /** A file_share message event, as Slack sends one, posted signed to the receiver. */
  async function share(text: string, specs: FileSpec[], where: { channel: string } & Record<string, unknown> = { channel: 'DALICE', channel_type: 'im' }): Promise<void> {
    const files = specs.map((s) => fake.addFile(s));
    const res = await fake.postEvent(url, fake.message({ ...where, user: 'UALICE', text, subtype: 'file_share', files }));
    assert.equal(res.status, 200);
  }

  test('a photo with a caption in a channel, a captionless photo in a DM, a voice clip and a PDF: described and downloaded', async () => {
    const photo = randomBytes(30_000);
    const dmPhoto = randomBytes(2000);
    const clip = randomBytes(7000);
    const pdf = Buffer.from('%PDF-1.4\n%%EOF\n');
    await share(`<@${fake.botUserId}> what is this?`, [{ name: 'cat.jpg', mimetype: 'image/jpeg', data: photo }], { channel: 'CGENERAL', channel_type: 'channel' });
    await share('', [{ name: 'image.png', mimetype: 'image/png', data: dmPhoto }]);
    await share('', [{ name: 'audio_message.m4a', mimetype: 'audio/mp4', data: clip, subtype: 'slack_audio', durationMs: 4200 }]);
    await share('please read', [{ name: 'report.pdf', mimetype: 'application/pdf', data: pdf }]);
    const [captioned, captionless, voice, doc] = [await next(1), await next(2), await next(3), await next(4)];
    assert.equal(captioned.text, 'what is this?');
    assert.equal(captioned.mentionsBot, true);
    assert.deepEqual({ ...captioned.attachments![0], platformRef: '' }, { kind: 'image', mime: 'image/jpeg', bytes: 30_000, name: 'cat.jpg', platformRef: '' });
    assert.match(captioned.attachments![0]!.platformRef, /^F\d+$/, 'a file id, not a URL');
    assert.equal(captionless.text, '');
    assert.equal(captionless.isDirect, true);
    assert.deepEqual([voice.attachments![0]!.kind, voice.attachments![0]!.durationSeconds], ['voice', 4.2]);
    assert.deepEqual([doc.attachments![0]!.kind, doc.attachments![0]!.name, doc.attachments![0]!.mime], ['document', 'report.pdf', 'application/pdf']);
    assert.ok((await channel.downloadAttachment(captioned.attachments![0]!, limits(MB))).equals(photo));
    assert.ok((await channel.downloadAttachment(captionless.attachments![0]!, limits(MB))).equals(dmPhoto));
    assert.ok((await channel.downloadAttachment(voice.attachments![0]!, limits(MB))).equals(clip));
    assert.ok((await channel.downloadAttachment(doc.attachments![0]!, limits(MB))).equals(pdf));
  });

  test('over-limit stated size refused before download; an understated size cut while streaming; a hang stops on abort', async () => {
    const big = fake.addFile({ name: 'big.jpg', mimetype: 'image/jpeg', data: randomBytes(100), statedSize: 50 * MB });
    const before = fake.fileRequests.length;
    await assert.rejects(channel.downloadAttachment({ kind: 'image', platformRef: String(big.id) }, limits(10 * MB)), AttachmentTooLargeError);
    assert.equal(fake.fileRequests.length, before, 'files.info said so: nothing downloaded');
    const liar = fake.addFile({ name: 'liar.bin', data: randomBytes(3 * MB), statedSize: 100, serving: 'unsized' });
    await assert.rejects(channel.downloadAttachment({ kind: 'document', bytes: 100, platformRef: String(liar.id) }, limits(MB)), /counted while downloading/);
    const stuck = fake.addFile({ name: 'stuck.m4a', data: randomBytes(100), serving: 'hang' });
    const stop = new AbortController();
    const download = channel.downloadAttachment({ kind: 'voice', platformRef: String(stuck.id) }, limits(MB, stop.signal));
    await waitFor('the stuck download to start', () => fake.fileRequests.some((p) => p.includes(String(stuck.id))));
    stop.abort(new Error('download timed out'));
    await assert.rejects(download, /download timed out/);
  });

  test('sendFile goes through files.uploadV2: the bytes reach the fake and are shared in the chat and thread with the caption', async () => {
    const photo = randomBytes(2048);
    const pdf = randomBytes(4096);
    const voice = randomBytes(1024);
    await channel.sendFile({ chatId: 'CGENERAL', kind: 'image', name: 'chart.png', mime: 'image/png', data: photo, caption: 'This week', threadId: '1726133698.626339' });
    await channel.sendFile({ chatId: 'DALICE', kind: 'document', name: 'report.pdf', mime: 'application/pdf', data: pdf });
    await channel.sendFile({ chatId: 'DALICE', kind: 'voice', name: 'note.ogg', mime: 'audio/ogg', data: voice });
    assert.deepEqual(fake.uploads.map((u) => [u.channel, u.filename, u.threadTs, u.initialComment]), [
      ['CGENERAL', 'chart.png', '1726133698.626339', 'This week'],
      ['DALICE', 'report.pdf', undefined, undefined],
      ['DALICE', 'note.ogg', undefined, undefined],
    ]);
    assert.ok(fake.uploads[0]!.data.equals(photo) && fake.uploads[1]!.data.equals(pdf) && fake.uploads[2]!.data.equals(voice));
  });

  test('a refused upload is permanent, a rate-limited one says when to retry', async () => {
    const file = { chatId: 'CGONE', kind: 'document' as const, name: 'a.txt', mime: 'text/plain', data: Buffer.from('hi') };
    fake.failNext('files.completeUploadExternal', 'channel_not_found');
    await assert.rejects(channel.sendFile(file), PermanentSendError);
    fake.rateLimit('files.getUploadURLExternal', 3);
    await assert.rejects(channel.sendFile(file), (err: unknown) => err instanceof RetryAfterError && err.retryAfterMs === 3000);
  });
});

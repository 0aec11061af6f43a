import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { encryptedStream, type MediaType, type proto, type WAMessage } from '@whiskeysockets/baileys';
import sharp from 'sharp';
import type { SlackChannel } from '../../channels/slack/slack-channel.js';
import { MessageStore } from '../../src/core/message-store.js';
import type { RecordedRequest } from '../fakes/fake-model.js';
import { FakeWhatsAppMedia } from '../fakes/fake-whatsapp-media.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarnessBeside, type Harness } from '../helpers/harness.js';
import { pdfWithText, photoWithGps, voiceNote } from '../helpers/media-fixtures.js';
import { startPlatformFakes, type PlatformFakes } from '../helpers/platform-fakes.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

const PRICES = `prices:
  fake-model: { input: 1, cachedInput: 0.5, output: 2, vision: true }
  whisper-1: { input: 0, output: 0, perMinute: 0.006 }
transcription: { provider: env, model: whisper-1 }
media: { maxEdgePx: 1024, imageMaxMb: 20 }
`;

const TELEGRAM_GROUP = -1001000000001;
const TELEGRAM_ALICE = 4201;
const SLACK_CHANNEL = 'C0MEDIA001';
const SLACK_DM = 'D0ALICE001';
const SLACK_ALICE = 'UALICE001';
const WHATSAPP_GROUP = '120363000000000001@g.us';
const WHATSAPP_ALICE = '4915112345678@s.whatsapp.net';
const WHATSAPP_BOT_JID = '15550001111@s.whatsapp.net';

type Part = { type: string; text?: string; image_url?: { url: string } };
type Message = { role: string; content: string | Part[] };

function messagesOf(req: RecordedRequest): Message[] {
  return req.body.messages as Message[];
}

function groupOf(req: RecordedRequest): string {
  const system = messagesOf(req)[0]?.content;
  return /for the group "([^"]+)"/.exec(typeof system === 'string' ? system : '')?.[1] ?? 'no group';
}

function lastUser(req: RecordedRequest): Message {
  return messagesOf(req).filter((m) => m.role === 'user').at(-1)!;
}

function textOf(message: Message): string {
  return typeof message.content === 'string' ? message.content : message.content.filter((p) => p.type === 'text').map((p) => p.text).join('\n');
}

/** What one platform does for this test: send each kind of file its own way, and say what its fake saw. */
interface Platform {
  name: string;
  /** The sender's name as the platform gives it. */
  sender: string;
  /** A photo with a caption that mentions the bot, in the group chat (which requires a trigger). */
  captionedGroupPhoto(photo: Buffer, caption: string): Promise<void>;
  /** A captionless photo in the group chat; returns what identifies its file in downloads(). */
  captionlessGroupPhoto(photo: Buffer): Promise<{ platformId: string; fileMark: string }>;
  dmPhoto(photo: Buffer): Promise<void>;
  dmVoice(ogg: Buffer, seconds: number): Promise<void>;
  dmDocument(pdf: Buffer, name: string, text: string): Promise<void>;
  /** Every file download the fake platform served, as paths. */
  downloads(): string[];
  /** The files the bot uploaded. */
  uploads(): Buffer[];
  groupChat: string;
}

let seq = 0;
const uniq = (prefix: string) => `${prefix}${++seq}${randomBytes(3).toString('hex')}`;

function telegramPlatform(f: PlatformFakes): Platform {
  const tg = f.telegram;
  const group = { id: TELEGRAM_GROUP, type: 'supergroup' as const, title: 'Telegram team' };
  const dm = { id: TELEGRAM_ALICE, type: 'private' as const, first_name: 'Alice' };
  const photoSizes = (data: Buffer) => {
    const id = uniq('AgPhoto');
    tg.addFile(id, data, { path: `photos/${id}.jpg` });
    return { id, sizes: [{ file_id: id, file_unique_id: `u${id}`, width: 3000, height: 2000, file_size: data.length }] };
  };
  return {
    name: 'telegram',
    sender: 'Alice',
    groupChat: String(TELEGRAM_GROUP),
    async captionedGroupPhoto(photo, caption) {
      tg.pushMessage({ chat: group, photo: photoSizes(photo).sizes, caption: `@${tg.bot.username} ${caption}` });
    },
    async captionlessGroupPhoto(photo) {
      const { id, sizes } = photoSizes(photo);
      const sent = tg.pushMessage({ chat: group, photo: sizes });
      return { platformId: String(sent.messageId), fileMark: id };
    },
    async dmPhoto(photo) {
      tg.pushMessage({ chat: dm, photo: photoSizes(photo).sizes });
    },
    async dmVoice(ogg, seconds) {
      const id = uniq('AwVoice');
      tg.addFile(id, ogg, { path: `voice/${id}.oga` });
      tg.pushMessage({ chat: dm, voice: { file_id: id, file_unique_id: `u${id}`, duration: seconds, mime_type: 'audio/ogg', file_size: ogg.length } });
    },
    async dmDocument(pdf, name, text) {
      const id = uniq('BQDoc');
      tg.addFile(id, pdf, { path: `documents/${id}.pdf` });
      tg.pushMessage({ chat: dm, caption: text, document: { file_id: id, file_unique_id: `u${id}`, file_name: name, mime_type: 'application/pdf', file_size: pdf.length } });
    },
    downloads: () => [...tg.fileRequests],
    uploads: () => tg.uploads.map((u) => u.data),
  };
}

function discordPlatform(f: PlatformFakes): Platform {
  const dc = f.discord;
  return {
    name: 'discord',
    sender: 'Alice',
    groupChat: dc.guild.channelId,
    async captionedGroupPhoto(photo, caption) {
      dc.userMessage({ content: `<@${dc.bot.id}> ${caption}`, attachments: [{ name: `${uniq('IMG')}.jpg`, contentType: 'image/jpeg', data: photo }] });
    },
    async captionlessGroupPhoto(photo) {
      const name = `${uniq('quiet')}.jpg`;
      const platformId = dc.userMessage({ content: '', attachments: [{ name, contentType: 'image/jpeg', data: photo }] });
      return { platformId, fileMark: name };
    },
    async dmPhoto(photo) {
      dc.userMessage({ content: '', dm: true, attachments: [{ name: `${uniq('IMG')}.jpg`, contentType: 'image/jpeg', data: photo }] });
    },
    async dmVoice(ogg, seconds) {
      dc.userMessage({ content: '', dm: true, voice: true, attachments: [{ name: 'voice-message.ogg', contentType: 'audio/ogg', data: ogg, durationSecs: seconds }] });
    },
    async dmDocument(pdf, name, text) {
      dc.userMessage({ content: text, dm: true, attachments: [{ name, contentType: 'application/pdf', data: pdf }] });
    },
    downloads: () => [...dc.fileRequests],
    uploads: () => dc.uploads.map((u) => u.data),
  };
}

function slackPlatform(f: PlatformFakes, receiver: () => string): Platform {
  const sl = f.slack;
  const share = async (text: string, file: Parameters<typeof sl.addFile>[0], where: Record<string, unknown>) => {
    const files = [sl.addFile(file)];
    const event = sl.message({ channel: SLACK_DM, channel_type: 'im', ...where, user: SLACK_ALICE, text, subtype: 'file_share', files });
    const res = await sl.postEvent(receiver(), event);
    assert.equal(res.status, 200, 'Slack event acknowledged');
    return { ts: String(event.ts), fileId: String(files[0]!.id) };
  };
  const inChannel = { channel: SLACK_CHANNEL, channel_type: 'channel' };
  return {
    name: 'slack',
    sender: 'alice',
    groupChat: SLACK_CHANNEL,
    async captionedGroupPhoto(photo, caption) {
      await share(`<@${sl.botUserId}> ${caption}`, { name: 'photo.jpg', mimetype: 'image/jpeg', data: photo }, inChannel);
    },
    async captionlessGroupPhoto(photo) {
      const { ts, fileId } = await share('', { name: 'quiet.jpg', mimetype: 'image/jpeg', data: photo }, inChannel);
      return { platformId: ts, fileMark: fileId };
    },
    async dmPhoto(photo) {
      await share('', { name: 'image.jpg', mimetype: 'image/jpeg', data: photo }, {});
    },
    async dmVoice(ogg, seconds) {
      await share('', { name: 'audio_message.ogg', mimetype: 'audio/ogg', data: ogg, subtype: 'slack_audio', durationMs: seconds * 1000 }, {});
    },
    async dmDocument(pdf, name, text) {
      await share(text, { name, mimetype: 'application/pdf', data: pdf }, {});
    },
    downloads: () => [...sl.fileRequests],
    uploads: () => sl.uploads.map((u) => u.data),
  };
}

function whatsappPlatform(f: PlatformFakes, media: FakeWhatsAppMedia): Platform {
  const wa = f.whatsapp;
  /** Encrypted the way WhatsApp stores media (Baileys' own encryptedStream), served at a direct path of its own. */
  const stored = async (data: Buffer, type: MediaType) => {
    const enc = await encryptedStream(data, type);
    const path = `/v/t62.7118-24/${randomBytes(6).toString('hex')}.enc`;
    media.add(path, readFileSync(enc.encFilePath));
    rmSync(enc.encFilePath, { force: true });
    return { directPath: `${path}?ccb=11-4`, mediaKey: enc.mediaKey, fileLength: data.length, path };
  };
  const deliver = (content: proto.IMessage, group: boolean): WAMessage =>
    wa.deliver({
      key: { remoteJid: group ? WHATSAPP_GROUP : WHATSAPP_ALICE, participant: group ? WHATSAPP_ALICE : undefined, fromMe: false, id: uniq('3EB0') },
      message: content,
      messageTimestamp: Math.floor(Date.now() / 1000),
      pushName: 'Alice',
    });
  const image = async (photo: Buffer) => {
    const { path, ...m } = await stored(photo, 'image');
    return { path, message: { ...m, mimetype: 'image/jpeg' } };
  };
  return {
    name: 'whatsapp',
    sender: 'Alice',
    groupChat: WHATSAPP_GROUP,
    async captionedGroupPhoto(photo, caption) {
      const { message } = await image(photo);
      deliver({ imageMessage: { ...message, caption: `@15550001111 ${caption}`, contextInfo: { mentionedJid: [WHATSAPP_BOT_JID] } } }, true);
    },
    async captionlessGroupPhoto(photo) {
      const { path, message } = await image(photo);
      const sent = deliver({ imageMessage: message }, true);
      return { platformId: sent.key.id!, fileMark: path };
    },
    async dmPhoto(photo) {
      deliver({ imageMessage: (await image(photo)).message }, false);
    },
    async dmVoice(ogg, seconds) {
      const { path: _path, ...m } = await stored(ogg, 'audio');
      deliver({ audioMessage: { ...m, mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds } }, false);
    },
    async dmDocument(pdf, name, text) {
      const { path: _path, ...m } = await stored(pdf, 'document');
      deliver({ documentMessage: { ...m, mimetype: 'application/pdf', fileName: name, caption: text } }, false);
    },
    downloads: () => media.requests.map((r) => r.path),
    uploads: () => wa.sent.map((m) => (m.content as { image?: Buffer } | undefined)?.image).filter((b): b is Buffer => Buffer.isBuffer(b)),
  };
}

async function pngChart(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 32, channels: 4, background: '#c33' } }).png().toBuffer();
}

/** The model request of this group made after `from`, once it comes. */
function requestFor(h: Harness, group: string, from: number): Promise<RecordedRequest> {
  return waitFor(`a model request for ${group}`, () => h.model.requests.slice(from).find((r) => groupOf(r) === group));
}

async function decodedImage(req: RecordedRequest) {
  const user = lastUser(req);
  assert.ok(Array.isArray(user.content), 'the user turn has parts');
  const image = user.content.find((p) => p.type === 'image_url');
  const match = /^data:image\/jpeg;base64,(.+)$/.exec(image?.image_url?.url ?? '');
  assert.ok(match, 'an image part with a data: URL the host built');
  return sharp(Buffer.from(match[1]!, 'base64')).metadata();
}

test('media from Telegram, Discord, Slack and WhatsApp reaches the model as the right parts; send_file reaches each platform once', { skip }, async (t) => {
  const fakes = await startPlatformFakes();
  const media = await FakeWhatsAppMedia.start();
  t.after(() => media.close());
  fakes.slack.users.set(SLACK_ALICE, 'alice');
  const dcDm = fakes.discord.dmChannelId();
  const enclaveYaml = fakes.enclaveYaml.replaceAll('    enabled: true\n', '    enabled: true\n    dmPolicy: open\n') + PRICES;
  const group = (chat: string, trigger: boolean) => `chats: ["${chat}"]\nrequireTrigger: ${trigger}\nmodel: fake-model\n`;
  const h = await startHarnessBeside(t, fakes, {
    enclaveYaml,
    secrets: fakes.secrets,
    groups: {
      'team-telegram': group(`telegram:${TELEGRAM_GROUP}`, true),
      'dm-telegram': group(`telegram:${TELEGRAM_ALICE}`, false),
      'team-discord': group(`discord:${fakes.discord.guild.channelId}`, true),
      'dm-discord': group(`discord:${dcDm}`, false),
      'team-slack': group(`slack:${SLACK_CHANNEL}`, true),
      'dm-slack': group(`slack:${SLACK_DM}`, false),
      'team-whatsapp': group(`whatsapp:${WHATSAPP_GROUP}`, true),
      'dm-whatsapp': group(`whatsapp:${WHATSAPP_ALICE}`, false),
    },
    start: { whatsappSocketFactory: fakes.whatsapp.makeSocket, whatsappMediaDispatcher: media.dispatcher },
  });
  const { app, model } = h;
  model.fallback = () => ({ content: 'noted' });
  const store = new MessageStore(app.db);
  const receiver = () => {
    const url = (app.channel('slack') as SlackChannel | undefined)?.receiverUrl();
    assert.ok(url, 'the Slack receiver listens');
    return url;
  };
  for (const name of ['telegram', 'discord', 'slack', 'whatsapp']) await waitFor(`${name} connected`, () => app.channel(name)?.health().connected);

  const platforms = [telegramPlatform(fakes), discordPlatform(fakes), slackPlatform(fakes, receiver), whatsappPlatform(fakes, media)];
  for (const p of platforms) {
    const team = `team-${p.name}`;
    const dm = `dm-${p.name}`;

    await t.test(`${p.name}: a captioned photo in the group reaches the vision model resized, without EXIF or GPS`, async () => {
      const from = model.requests.length;
      await p.captionedGroupPhoto(await photoWithGps(3000, 2000), 'what is in this picture?');
      const req = await requestFor(h, team, from);
      assert.match(textOf(lastUser(req)), /what is in this picture\?/);
      assert.match(textOf(lastUser(req)), new RegExp(`\\[Photo from ${p.sender}, shown below; the file is at /workspace/inbox/`));
      const meta = await decodedImage(req);
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 1024, 683], 'resized to the longest edge');
      assert.equal(meta.exif, undefined, 'EXIF (and the GPS in it) is gone');
    });

    await t.test(`${p.name}: a captionless photo in the group is not fetched; one in a DM is`, async () => {
      const quiet = await p.captionlessGroupPhoto(await photoWithGps(800, 600));
      const stored = await waitFor('the untriggered photo stored', () => store.find(p.name, p.groupChat, quiet.platformId));
      assert.equal(stored.status, 'ignored');
      const from = model.requests.length;
      await p.dmPhoto(await photoWithGps(800, 600));
      const req = await requestFor(h, dm, from);
      assert.equal(textOf(lastUser(req)).replace(/\[Photo from [^\]]+\]/, '').trim(), '', 'no caption, just the photo');
      const meta = await decodedImage(req);
      assert.deepEqual([meta.width, meta.height, meta.exif], [800, 600, undefined]);
      assert.ok(!p.downloads().some((path) => path.includes(quiet.fileMark)), `the group photo was never downloaded: ${p.downloads().join(', ')}`);
      assert.ok(!model.requests.slice(from).some((r) => groupOf(r) === team), 'no turn for the group');
    });

    await t.test(`${p.name}: a voice note arrives as a transcript labelled with sender and duration`, async () => {
      const from = model.requests.length;
      const transcribed = model.transcriptions.length;
      model.transcriptionScript.push({ text: `Please remind me to buy milk, says ${p.name}.`, duration: 42 });
      await p.dmVoice(voiceNote(), 3);
      const req = await requestFor(h, dm, from);
      assert.equal(model.transcriptions.length, transcribed + 1, 'one transcription');
      assert.match(textOf(lastUser(req)), new RegExp(`\\[Transcript of a voice note from ${p.sender} \\(0:42\\), made by speech-to-text; the audio is at /workspace/inbox/\\S+\\]\\n"""\\nPlease remind me to buy milk, says ${p.name}\\.\\n"""`));
    });

    await t.test(`${p.name}: a PDF's text reaches the model`, async () => {
      const from = model.requests.length;
      await p.dmDocument(pdfWithText(`Invoice total: 42 EUR for ${p.name}`), 'invoice.pdf', 'how much is it?');
      const text = textOf(lastUser(await requestFor(h, dm, from)));
      assert.match(text, /how much is it\?/);
      assert.match(text, /\[Document "invoice\.pdf" from \S+; the original is at \/workspace\/inbox\/\S+invoice\.pdf\. Its text:\]/);
      assert.match(text, new RegExp(`Invoice total: 42 EUR for ${p.name}`));
    });

    await t.test(`${p.name}: send_file delivers a PNG from the memory folder, byte for byte, once`, async () => {
      const png = await pngChart();
      writeFileSync(join(h.home, 'groups', dm, 'memory', 'chart.png'), png);
      const uploaded = p.uploads().length;
      const from = model.requests.length;
      model.push({ toolCalls: [{ name: 'send_file', arguments: JSON.stringify({ path: 'chart.png' }) }] }, { content: 'Here is the chart.' });
      await p.dmDocument(pdfWithText('chart request'), 'request.pdf', 'send me the chart');
      await waitFor('the turn after send_file', () => model.requests.slice(from).filter((r) => groupOf(r) === dm).length >= 2);
      const toolResult = messagesOf(model.requests.slice(from).filter((r) => groupOf(r) === dm)[1]!).find((m) => m.role === 'tool');
      assert.match(String(toolResult?.content), /"ok":\s*true/, String(toolResult?.content));
      const got = await waitFor('the upload', () => p.uploads().length > uploaded && p.uploads().slice(uploaded));
      assert.equal(got.length, 1, 'exactly one upload');
      assert.ok(got[0]!.equals(png), 'the same bytes');
    });
  }

  await t.test('at the end, each PNG was uploaded exactly once', async () => {
    const png = await pngChart();
    for (const p of platforms) assert.equal(p.uploads().filter((b) => b.equals(png)).length, 1, p.name);
  });
});

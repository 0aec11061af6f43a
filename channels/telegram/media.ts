import { InputFile, type Api } from 'grammy';
import type { Message } from 'grammy/types';
import type { DownloadLimits, InboundAttachment, OutboundFile } from '../channel.js';
import { assertWithin, fetchCapped, plainHttpHosts } from '../download.js';
import { apiSignal } from './api-signal.js';
import { classifySendError } from './errors.js';

/**
 * The files of a Telegram message, described (nothing fetched): the largest photo size, a voice
 * note, audio, a video or video note, a document, a sticker. platformRef is the file_id.
 */
export function telegramAttachments(message: Message): InboundAttachment[] {
  const out: InboundAttachment[] = [];
  const largest = message.photo?.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
  if (largest) out.push({ kind: 'image', mime: 'image/jpeg', bytes: largest.file_size, platformRef: largest.file_id });
  const { voice, audio, video, video_note: note, document, sticker } = message;
  if (voice) out.push({ kind: 'voice', mime: voice.mime_type, bytes: voice.file_size, durationSeconds: voice.duration, platformRef: voice.file_id });
  if (audio) out.push({ kind: 'audio', mime: audio.mime_type, bytes: audio.file_size, durationSeconds: audio.duration, name: audio.file_name, platformRef: audio.file_id });
  if (video) out.push({ kind: 'video', mime: video.mime_type, bytes: video.file_size, durationSeconds: video.duration, name: video.file_name, platformRef: video.file_id });
  if (note) out.push({ kind: 'video', mime: 'video/mp4', bytes: note.file_size, durationSeconds: note.duration, platformRef: note.file_id });
  if (document) out.push({ kind: 'document', mime: document.mime_type, bytes: document.file_size, name: document.file_name, platformRef: document.file_id });
  if (sticker) out.push({ kind: 'sticker', mime: sticker.is_animated ? 'application/x-tgsticker' : sticker.is_video ? 'video/webm' : 'image/webp', bytes: sticker.file_size, platformRef: sticker.file_id });
  return out;
}

/** getFile, then the file from the same Bot API server (apiRoot/file/bot<token>/<path>), capped. */
export async function downloadTelegramFile(api: Api, apiRoot: string, token: string, attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
  assertWithin(attachment.bytes, limits.maxBytes);
  const file = await api.getFile(attachment.platformRef, apiSignal(limits.signal));
  assertWithin(file.file_size, limits.maxBytes);
  if (!file.file_path) throw new Error('Telegram gave no download path for the file (it may be over the Bot API download limit of 20 MB)');
  const path = file.file_path.split('/').map((part) => {
    if (part === '' || part === '.' || part === '..') throw new Error('Telegram gave an unusable file path');
    return encodeURIComponent(part);
  });
  const root = new URL(apiRoot);
  return fetchCapped(`${apiRoot}/file/bot${token}/${path.join('/')}`, { ...limits, allowedHosts: [root.host], httpHosts: plainHttpHosts(apiRoot) });
}

/** A photo, voice note, audio or document with Telegram's own method for it; failures classified like send(). */
export async function sendTelegramFile(api: Api, file: OutboundFile, signal: AbortSignal): Promise<void> {
  const input = new InputFile(file.data, file.name);
  const options = {
    ...(file.caption && { caption: file.caption }),
    ...(isId(file.replyTo) && { reply_parameters: { message_id: Number(file.replyTo), allow_sending_without_reply: true } }),
    ...(isId(file.threadId) && { message_thread_id: Number(file.threadId) }),
  };
  const s = apiSignal(signal);
  try {
    if (file.kind === 'image') await api.sendPhoto(file.chatId, input, options, s);
    else if (file.kind === 'voice') await api.sendVoice(file.chatId, input, options, s);
    else if (file.kind === 'audio') await api.sendAudio(file.chatId, input, options, s);
    else await api.sendDocument(file.chatId, input, options, s);
  } catch (err) {
    throw classifySendError(err, file.chatId);
  }
}

function isId(id: string | undefined): id is string {
  return id !== undefined && /^\d+$/.test(id);
}

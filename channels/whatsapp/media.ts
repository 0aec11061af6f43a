import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { getMediaKeys, type AnyMessageContent, type MediaType, type proto } from '@whiskeysockets/baileys';
import type { Dispatcher } from 'undici';
import type { AttachmentKind, DownloadLimits, InboundAttachment, OutboundFile } from '../channel.js';
import { assertWithin, fetchCapped } from '../download.js';

/** WhatsApp's media host; every download goes there, whatever host a message names. */
export const WHATSAPP_MEDIA_HOST = 'mmg.whatsapp.net';

/** What a download needs, kept host-side in platformRef (JSON). */
interface MediaRef {
  type: MediaType;
  directPath: string;
  /** Base64. */
  mediaKey: string;
}

type MediaFields = Pick<proto.Message.IImageMessage, 'directPath' | 'mediaKey' | 'fileLength' | 'mimetype'>;

/** The file of a WhatsApp message, described, with its caption; undefined for a message without one. */
export function whatsappMedia(c: proto.IMessage): { attachment?: InboundAttachment; caption: string; context?: proto.IContextInfo | null } | undefined {
  const found = pick(c);
  if (!found) return undefined;
  const { media, kind, type, caption, context, name, seconds } = found;
  // Without its key and path the file cannot be fetched: the caption alone still counts.
  if (!media.directPath || !media.mediaKey) return caption ? { caption, context } : undefined;
  const ref: MediaRef = { type, directPath: media.directPath, mediaKey: Buffer.from(media.mediaKey).toString('base64') };
  const bytes = media.fileLength === null || media.fileLength === undefined ? undefined : Number(media.fileLength);
  const attachment: InboundAttachment = {
    kind,
    ...(media.mimetype && { mime: media.mimetype }),
    ...(bytes !== undefined && { bytes }),
    ...(seconds && { durationSeconds: seconds }),
    ...(name && { name }),
    platformRef: JSON.stringify(ref),
  };
  return { attachment, caption: caption ?? '', context };
}

interface Picked {
  media: MediaFields;
  kind: AttachmentKind;
  type: MediaType;
  caption?: string | null;
  context?: proto.IContextInfo | null;
  name?: string | null;
  seconds?: number | null;
}

function pick(c: proto.IMessage): Picked | undefined {
  if (c.imageMessage) return { media: c.imageMessage, kind: 'image', type: 'image', caption: c.imageMessage.caption, context: c.imageMessage.contextInfo };
  if (c.videoMessage) return { media: c.videoMessage, kind: 'video', type: 'video', caption: c.videoMessage.caption, context: c.videoMessage.contextInfo, seconds: c.videoMessage.seconds };
  if (c.audioMessage) {
    const a = c.audioMessage;
    return { media: a, kind: a.ptt ? 'voice' : 'audio', type: 'audio', context: a.contextInfo, seconds: a.seconds };
  }
  if (c.documentMessage) {
    const d = c.documentMessage;
    return { media: d, kind: 'document', type: 'document', caption: d.caption, context: d.contextInfo, name: d.fileName };
  }
  if (c.stickerMessage) return { media: c.stickerMessage, kind: 'sticker', type: 'sticker', context: c.stickerMessage.contextInfo };
  return undefined;
}

/**
 * Downloads a file from WhatsApp's media host only (the host a message names is ignored), capped
 * while streaming and stopped on abort, then checks its MAC and decrypts it with the keys Baileys
 * derives from the message's media key (WhatsApp's scheme: AES-256-CBC, HMAC-SHA256 cut to 10 bytes).
 */
export async function downloadWhatsAppMedia(attachment: InboundAttachment, limits: DownloadLimits, dispatcher?: () => Dispatcher): Promise<Buffer> {
  assertWithin(attachment.bytes, limits.maxBytes);
  const ref = parseRef(attachment.platformRef);
  // The encrypted file is the padded plaintext (up to 16 bytes more) and a 10-byte MAC.
  const encrypted = await fetchCapped(`https://${WHATSAPP_MEDIA_HOST}${ref.directPath}`, {
    maxBytes: limits.maxBytes + 26,
    signal: limits.signal,
    allowedHosts: [WHATSAPP_MEDIA_HOST],
    ...(dispatcher && { dispatcher: dispatcher() }),
  });
  const { cipherKey, iv, macKey } = await getMediaKeys(Buffer.from(ref.mediaKey, 'base64'), ref.type);
  if (!macKey) throw new Error('no MAC key for the WhatsApp file');
  if (encrypted.length < 26) throw new Error('WhatsApp sent a file too short to be media');
  const body = encrypted.subarray(0, -10);
  const mac = createHmac('sha256', macKey).update(iv).update(body).digest().subarray(0, 10);
  if (!timingSafeEqual(mac, encrypted.subarray(-10))) throw new Error('the WhatsApp file failed its integrity check');
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  const plain = Buffer.concat([decipher.update(body), decipher.final()]);
  assertWithin(plain.length, limits.maxBytes);
  return plain;
}

function parseRef(raw: string): MediaRef {
  const ref = JSON.parse(raw) as Partial<MediaRef>;
  const types: readonly string[] = ['image', 'video', 'audio', 'document', 'sticker'];
  if (typeof ref.type !== 'string' || !types.includes(ref.type) || typeof ref.mediaKey !== 'string' || typeof ref.directPath !== 'string') {
    throw new Error('not a WhatsApp media reference');
  }
  // The URL is https://<host><directPath>: a path that does not start with "/" could name another host.
  if (!ref.directPath.startsWith('/') || new URL(`https://${WHATSAPP_MEDIA_HOST}${ref.directPath}`).host !== WHATSAPP_MEDIA_HOST) {
    throw new Error('refused a WhatsApp media path that leaves the media host');
  }
  return ref as MediaRef;
}

/** The Baileys message for a file: a photo, a voice note (ptt), audio, or a document with its name. */
export function whatsappFileContent(file: OutboundFile): AnyMessageContent {
  const caption = file.caption ? { caption: file.caption } : {};
  if (file.kind === 'image') return { image: file.data, mimetype: file.mime, ...caption };
  if (file.kind === 'voice') return { audio: file.data, mimetype: file.mime, ptt: true };
  if (file.kind === 'audio') return { audio: file.data, mimetype: file.mime };
  return { document: file.data, mimetype: file.mime, fileName: file.name, ...caption };
}

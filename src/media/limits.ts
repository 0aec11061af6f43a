import type { AttachmentKind } from '../../channels/channel.js';
import type { MediaConfig } from '../config/schema.js';
import type { SniffedCategory } from './sniff.js';

const MB = 1024 * 1024;

/** Files of one message the host fetches; more are named in a notice and left on the platform. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

export type MediaFamily = 'image' | 'audio' | 'document';

/** How the platform's claim of a file's kind is limited before download (its real type decides after). */
export function familyOfKind(kind: AttachmentKind): MediaFamily {
  if (kind === 'image' || kind === 'sticker') return 'image';
  if (kind === 'audio' || kind === 'voice' || kind === 'video') return 'audio';
  return 'document';
}

export function familyOfType(category: SniffedCategory): MediaFamily {
  if (category === 'image') return 'image';
  if (category === 'audio' || category === 'video') return 'audio';
  return 'document';
}

export function maxBytesFor(family: MediaFamily, media: MediaConfig): number {
  const mb = family === 'image' ? media.imageMaxMb : family === 'audio' ? media.audioMaxMb : media.documentMaxMb;
  return Math.floor(mb * MB);
}

/** For people: 20971520 -> "20 MB". */
export function formatMb(bytes: number): string {
  const mb = bytes / MB;
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

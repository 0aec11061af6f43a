/**
 * The real type of a received file, read from its first bytes. The extension and the platform's
 * MIME are claims by the sender and are never consulted: a "photo.png" that starts with an ELF
 * header is an unknown binary.
 */

export type SniffedCategory = 'image' | 'audio' | 'video' | 'pdf' | 'text' | 'binary';

export interface SniffedType {
  category: SniffedCategory;
  mime: string;
  /** Extensions (lower case, without the dot) a file of this type may keep; the first is the default. */
  extensions: readonly string[];
}

const TYPES = {
  jpeg: { category: 'image', mime: 'image/jpeg', extensions: ['jpg', 'jpeg'] },
  png: { category: 'image', mime: 'image/png', extensions: ['png'] },
  gif: { category: 'image', mime: 'image/gif', extensions: ['gif'] },
  webp: { category: 'image', mime: 'image/webp', extensions: ['webp'] },
  heic: { category: 'image', mime: 'image/heic', extensions: ['heic', 'heif'] },
  avif: { category: 'image', mime: 'image/avif', extensions: ['avif'] },
  ogg: { category: 'audio', mime: 'audio/ogg', extensions: ['ogg', 'oga', 'opus'] },
  mp3: { category: 'audio', mime: 'audio/mpeg', extensions: ['mp3'] },
  m4a: { category: 'audio', mime: 'audio/mp4', extensions: ['m4a', 'mp4', 'aac'] },
  wav: { category: 'audio', mime: 'audio/wav', extensions: ['wav'] },
  webm: { category: 'audio', mime: 'audio/webm', extensions: ['webm'] },
  mp4: { category: 'video', mime: 'video/mp4', extensions: ['mp4', 'm4v', 'mov'] },
  pdf: { category: 'pdf', mime: 'application/pdf', extensions: ['pdf'] },
  json: { category: 'text', mime: 'application/json', extensions: ['json'] },
  text: {
    category: 'text',
    mime: 'text/plain',
    extensions: ['txt', 'md', 'markdown', 'csv', 'tsv', 'log', 'yaml', 'yml', 'json', 'xml', 'ini'],
  },
  binary: { category: 'binary', mime: 'application/octet-stream', extensions: ['bin'] },
} as const satisfies Record<string, SniffedType>;

export const UNKNOWN_BINARY: SniffedType = TYPES.binary;

function startsWith(data: Buffer, bytes: readonly number[], at = 0): boolean {
  if (data.length < at + bytes.length) return false;
  return bytes.every((b, i) => data[at + i] === b);
}

function ascii(data: Buffer, at: number, length: number): string {
  if (data.length < at + length) return '';
  return data.toString('latin1', at, at + length);
}

/** ISO base media (MP4, M4A, HEIC, AVIF): `ftyp` at offset 4, the major brand after it. */
function sniffIsoMedia(data: Buffer): SniffedType | undefined {
  if (ascii(data, 4, 4) !== 'ftyp') return undefined;
  const brand = ascii(data, 8, 4);
  if (['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return TYPES.heic;
  if (brand === 'avif' || brand === 'avis') return TYPES.avif;
  if (brand === 'M4A ' || brand === 'M4B ' || brand === 'M4P ') return TYPES.m4a;
  if (/^[\x20-\x7e]{4}$/.test(brand)) return TYPES.mp4;
  return undefined;
}

/** An MPEG audio frame header of layer III (0xFFE/0xFFF sync, layer bits 01). */
function isMp3Frame(data: Buffer): boolean {
  if (data.length < 4 || data[0] !== 0xff) return false;
  const b1 = data[1] ?? 0;
  const b2 = data[2] ?? 0;
  const sync = (b1 & 0xe0) === 0xe0;
  const layer3 = (b1 & 0x06) === 0x02;
  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0x03;
  return sync && layer3 && bitrateIndex !== 0x0f && sampleRateIndex !== 0x03;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Readable text: valid UTF-8 with no NUL and no control characters but tab, newlines and form feed. */
function isText(data: Buffer): boolean {
  if (data.length === 0) return false;
  let decoded: string;
  try {
    decoded = utf8.decode(data);
  } catch {
    return false;
  }
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c) return false;
    if (c === 0x7f) return false;
  }
  return true;
}

function isJson(data: Buffer): boolean {
  const first = data.toString('utf8', 0, Math.min(data.length, 64)).replace(/^\uFEFF/, '').trimStart()[0];
  if (first !== '{' && first !== '[') return false;
  try {
    JSON.parse(data.toString('utf8').replace(/^\uFEFF/, ''));
    return true;
  } catch {
    return false;
  }
}

/** The real type of `data`. Anything not recognised (executables, archives, empty files) is UNKNOWN_BINARY. */
export function sniffType(data: Buffer): SniffedType {
  if (startsWith(data, [0xff, 0xd8, 0xff])) return TYPES.jpeg;
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return TYPES.png;
  const head6 = ascii(data, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return TYPES.gif;
  if (ascii(data, 0, 4) === 'RIFF') {
    const form = ascii(data, 8, 4);
    if (form === 'WEBP') return TYPES.webp;
    if (form === 'WAVE') return TYPES.wav;
    return UNKNOWN_BINARY;
  }
  const iso = sniffIsoMedia(data);
  if (iso) return iso;
  if (ascii(data, 0, 4) === 'OggS') return TYPES.ogg;
  if (startsWith(data, [0x1a, 0x45, 0xdf, 0xa3])) {
    return data.subarray(0, 64).includes('webm', 0, 'latin1') ? TYPES.webm : UNKNOWN_BINARY;
  }
  if (ascii(data, 0, 3) === 'ID3' || isMp3Frame(data)) return TYPES.mp3;
  if (ascii(data, 0, 5) === '%PDF-') return TYPES.pdf;
  if (isText(data)) return isJson(data) ? TYPES.json : TYPES.text;
  return UNKNOWN_BINARY;
}

/*
 * The length of a voice note read from its container, where that is cheap and exact: Ogg Opus (the
 * voice notes of WhatsApp, Telegram and Discord) and WAV. Other formats: undefined, and the
 * platform's stated duration is used. The transcription is reserved at the configured maximum
 * either way, so a wrong figure here can never make a call cost more than was reserved.
 */

const OPUS_RATE = 48_000;

/** Ogg: the granule position of the last page (samples at 48 kHz for Opus), minus the pre-skip. */
function oggSeconds(data: Buffer): number | undefined {
  const last = data.lastIndexOf('OggS', data.length - 27, 'latin1');
  if (last < 0 || last + 14 > data.length) return undefined;
  const granule = data.readBigUInt64LE(last + 6);
  if (granule === 0xffffffffffffffffn) return undefined;
  const head = data.indexOf('OpusHead', 0, 'latin1');
  if (head < 0 || head + 12 > data.length) return undefined;
  const preSkip = data.readUInt16LE(head + 10);
  const samples = Number(granule) - preSkip;
  return samples >= 0 ? samples / OPUS_RATE : undefined;
}

/** WAV: the data chunk's size over the format's bytes per second. */
function wavSeconds(data: Buffer): number | undefined {
  const fmt = data.indexOf('fmt ', 12, 'latin1');
  const chunk = data.indexOf('data', 12, 'latin1');
  if (fmt < 0 || chunk < 0 || fmt + 16 > data.length || chunk + 8 > data.length) return undefined;
  const byteRate = data.readUInt32LE(fmt + 16);
  if (byteRate === 0) return undefined;
  const size = Math.min(data.readUInt32LE(chunk + 4), data.length - chunk - 8);
  return size / byteRate;
}

export function audioSeconds(data: Buffer, mime: string): number | undefined {
  try {
    if (mime === 'audio/ogg') return oggSeconds(data);
    if (mime === 'audio/wav') return wavSeconds(data);
  } catch {
    return undefined;
  }
  return undefined;
}

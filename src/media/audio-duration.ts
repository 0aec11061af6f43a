/*
 * The length of a voice note read from its container, where that is cheap and exact: Ogg Opus (the
 * voice notes of WhatsApp, Telegram and Discord) and PCM WAV whose header agrees with itself. Other
 * formats: undefined. audioSecondsBound gives the length a transcription is reserved and limited on.
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

/**
 * WAV: the data chunk's size over sampleRate × blockAlign (the bytes of one second), trusted only
 * when the header's byteRate says the same: a forged byteRate would make an hour read as a second.
 */
function wavSeconds(data: Buffer): number | undefined {
  const fmt = data.indexOf('fmt ', 12, 'latin1');
  const chunk = data.indexOf('data', 12, 'latin1');
  if (fmt < 0 || chunk < 0 || fmt + 22 > data.length || chunk + 8 > data.length) return undefined;
  const sampleRate = data.readUInt32LE(fmt + 12);
  const byteRate = data.readUInt32LE(fmt + 16);
  const blockAlign = data.readUInt16LE(fmt + 20);
  if (byteRate === 0 || byteRate !== sampleRate * blockAlign) return undefined;
  const size = Math.min(data.readUInt32LE(chunk + 4), data.length - chunk - 8);
  return size / byteRate;
}

/**
 * The fewest bytes a second of audio takes in any format a speech-to-text service accepts: MP3's
 * lowest bitrate is 8 kbit/s (1000 B/s), AAC and Opus-in-WebM at speech quality stay above 6 kbit/s
 * (750 B/s). Half of that leaves room for silence-skipping encoders without trusting the file.
 */
export const FLOOR_BYTES_PER_SECOND = 500;

/**
 * The longest the audio can be, for reserving and limiting its transcription: the measured length
 * where the container states it exactly (Ogg granules, a consistent WAV header), otherwise its size
 * over FLOOR_BYTES_PER_SECOND, or the platform's stated length when that is longer. The platform's
 * figure alone is never trusted: it can only make the bound longer.
 */
export function audioSecondsBound(data: Buffer, mime: string, statedSeconds?: number): number {
  const measured = audioSeconds(data, mime);
  if (measured !== undefined) return measured;
  return Math.max(statedSeconds ?? 0, data.length / FLOOR_BYTES_PER_SECOND);
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

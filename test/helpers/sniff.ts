/** The types send_file tests use, by their magic bytes (replaced by src/media/sniff.ts once it is on main). */
export function sniffForTests(bytes: Buffer): { mime: string } | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mime: 'image/png' };
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return { mime: 'application/pdf' };
  if (bytes.subarray(0, 4).toString('latin1') === 'OggS') return { mime: 'audio/ogg' };
  return undefined;
}

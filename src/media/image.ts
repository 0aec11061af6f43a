import sharp from 'sharp';

/** Images with more pixels than this are refused before they are decoded (a decompression bomb). */
export const MAX_INPUT_PIXELS = 40_000_000;
const TILE_PX = 512;

export interface PreparedImage {
  /** Re-encoded JPEG: turned upright, no larger than the maximum edge, no EXIF/GPS/XMP/ICC profile. */
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes the image (refusing a decompression bomb), applies its EXIF orientation, shrinks it to
 * maxEdgePx and writes a fresh JPEG. sharp copies no metadata unless asked, so location and camera
 * details stay behind. Animated images keep their first frame.
 */
export async function prepareImage(data: Buffer, maxEdgePx: number): Promise<PreparedImage> {
  const { data: jpeg, info } = await sharp(data, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize({ width: maxEdgePx, height: maxEdgePx, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 82, mozjpeg: false })
    .toBuffer({ resolveWithObject: true });
  return { jpeg, width: info.width, height: info.height };
}


/** Started 512×512 tiles of an image: what the proxy prices with the called model's own image prices. */
export function imageTiles(width: number, height: number): number {
  return Math.ceil(width / TILE_PX) * Math.ceil(height / TILE_PX);
}

/** The tiles of a host-built JPEG data: URL, read from its header (an unreadable one counts as the largest allowed). */
export async function dataUrlTiles(url: string, maxEdgePx: number): Promise<number> {
  const meta = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata().catch(() => undefined);
  return imageTiles(meta?.width ?? maxEdgePx, meta?.height ?? maxEdgePx);
}

export function dataUrl(mime: string, data: Buffer): string {
  return `data:${mime};base64,${data.toString('base64')}`;
}

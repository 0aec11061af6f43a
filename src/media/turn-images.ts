import { createHash } from 'node:crypto';

function digest(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

/**
 * The image parts the host built for each group's running turn. The proxy passes an image part
 * upstream only when its exact data: URL is registered here for the group the call came from, and
 * prices its tiles with the called model's image prices; every other image (a remote URL, a data: URL the agent
 * made, last turn's photo) is refused.
 */
export class TurnImages {
  private readonly byGroup = new Map<string, Map<string, number>>();

  /** The images of the group's turn that starts now (replacing any earlier turn's). */
  set(group: string, images: ReadonlyArray<{ url: string; tiles: number }>): void {
    if (images.length === 0) {
      this.byGroup.delete(group);
      return;
    }
    this.byGroup.set(group, new Map(images.map((i) => [digest(i.url), i.tiles])));
  }

  clear(group: string): void {
    this.byGroup.delete(group);
  }

  /** The 512×512 tiles of a registered image, or undefined when the host did not build it for this group's turn. */
  tiles(group: string, url: string): number | undefined {
    const images = this.byGroup.get(group);
    if (!images || !url.startsWith('data:image/')) return undefined;
    return images.get(digest(url));
  }
}


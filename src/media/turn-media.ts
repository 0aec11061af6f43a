import type { Config } from '../config/load.js';
import type { GroupConfig } from '../config/groups.js';
import { providerFor } from '../config/providers.js';
import { priceFor } from '../ledger/pricing.js';
import { ingestMessageMedia, turnMediaSignal, type IngestedMedia, type MediaDeps, type MessageMedia } from './ingest.js';
import { dataUrlTiles } from './image.js';
import type { TurnImages } from './turn-images.js';

export interface TurnMediaDeps extends MediaDeps {
  images: TurnImages;
}

/** A model sees images when its prices entry says `vision: true`. */
export function modelSeesImages(cfg: Config, model: string): boolean {
  const provider = providerFor(cfg.providers, model);
  return provider !== undefined && priceFor(provider, model, cfg.enclave.prices)?.vision === true;
}

/**
 * The files of a turn's messages, taken in before the turn runs; the images are registered for
 * the group's turn so the proxy lets exactly these through. Call release() when the turn ends.
 */
export async function prepareTurnMedia(
  deps: TurnMediaDeps,
  cfg: Config,
  group: GroupConfig,
  model: string,
  messages: readonly MessageMedia[],
  signal: AbortSignal,
): Promise<Map<number, IngestedMedia>> {
  const vision = modelSeesImages(cfg, model);
  const result = new Map<number, IngestedMedia>();
  const deadline = turnMediaSignal(deps, signal);
  let shown = 0;
  let files = 0;
  for (const message of messages) {
    if (message.attachments.length === 0) continue;
    const ingested = await ingestMessageMedia(deps, group, message, vision, deadline, shown, files);
    shown += ingested.images.length;
    files += ingested.files ?? 0;
    result.set(message.id, ingested);
  }
  const maxEdge = deps.media().maxEdgePx;
  const images = [...result.values()].flatMap((m) => m.images);
  deps.images.set(group.name, await Promise.all(images.map(async (i) => ({ url: i.url, tiles: await dataUrlTiles(i.url, maxEdge) }))));
  return result;
}

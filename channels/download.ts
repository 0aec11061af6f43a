import { AttachmentTooLargeError, type AttachmentKind, type DownloadLimits } from './channel.js';

export interface CappedFetch extends DownloadLimits {
  /** Hosts the file may come from (the platform's own file host, or the configured API host). */
  allowedHosts: readonly string[];
  /** Allowed hosts that may be reached over plain http: only a configured API host (a local proxy, the tests' fakes). */
  httpHosts?: readonly string[];
  headers?: Record<string, string>;
  /** The connection pool to use (undici); the default one when unset. */
  dispatcher?: unknown;
}

/** What a platform's stated MIME type makes a file: a photo, audio, a video or a document. */
export function kindFromMime(mime: string | null | undefined): AttachmentKind {
  if (mime?.startsWith('image/')) return 'image';
  if (mime?.startsWith('audio/')) return 'audio';
  if (mime?.startsWith('video/')) return 'video';
  return 'document';
}

/** The configured API host, when its URL itself is plain http (a local proxy, the tests' fakes); a real platform's https host never is. */
export function plainHttpHosts(configuredUrl: string): string[] {
  const url = new URL(configuredUrl);
  return url.protocol === 'http:' ? [url.host] : [];
}

/**
 * Downloads a platform file for the host: only from an allowed host, never following a redirect,
 * refused before reading when the server states a size over the cap, cut off the moment the bytes
 * counted pass it, and stopped when the signal aborts (a hanging server cannot hold the host).
 */
export async function fetchCapped(url: string, opts: CappedFetch): Promise<Buffer> {
  const target = new URL(url);
  if (!['https:', 'http:'].includes(target.protocol) || !opts.allowedHosts.includes(target.host)) {
    throw new Error(`refused to download from ${target.host}: not the platform's file host`);
  }
  if (target.protocol === 'http:' && !(opts.httpHosts ?? []).includes(target.host)) {
    throw new Error(`refused to download from ${target.host} over plain http: the platform's file host is reached by https only`);
  }
  opts.signal.throwIfAborted();
  const init: RequestInit & { dispatcher?: unknown } = { headers: opts.headers, redirect: 'error', signal: opts.signal, ...(opts.dispatcher !== undefined && { dispatcher: opts.dispatcher }) };
  const res = await fetch(target, init);
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the platform answered ${res.status} to the file download`);
  }
  const stated = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(stated)) assertWithin(stated, opts.maxBytes, res.body);
  return readCapped(res.body, opts.maxBytes, opts.signal);
}

/** Reads a stream to its end, throwing AttachmentTooLargeError as soon as it passes maxBytes. */
export async function readCapped(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const iterator = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : (body as ReadableStream<Uint8Array>).values();
  const aborted = new Promise<never>((_, reject) => {
    const stop = () => reject(signal.reason instanceof Error ? signal.reason : new Error('the download was stopped'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) throw tooLarge(total, maxBytes, 'counted while downloading');
      chunks.push(next.value);
    }
  } finally {
    void iterator.return?.().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

/** Refuses a file whose stated size is over the cap, before any byte is read. */
export function assertWithin(statedBytes: number | undefined, maxBytes: number, body?: ReadableStream<Uint8Array>): void {
  if (statedBytes === undefined || statedBytes <= maxBytes) return;
  void body?.cancel().catch(() => undefined);
  throw tooLarge(statedBytes, maxBytes, 'stated by the platform');
}

function tooLarge(bytes: number, maxBytes: number, how: string): AttachmentTooLargeError {
  return new AttachmentTooLargeError(`the file has more than ${maxBytes} bytes (${bytes}, ${how})`, maxBytes);
}

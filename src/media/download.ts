import { AttachmentTooLargeError, type Channel, type InboundAttachment } from '../../channels/channel.js';

export interface DownloadOptions {
  maxBytes: number;
  /** Ends the download (the turn's timeout or a shutdown). */
  signal: AbortSignal;
}

export type DownloadResult =
  | { ok: true; data: Buffer }
  | { ok: false; reason: 'too_large' | 'unsupported' | 'aborted' | 'failed' | 'empty'; error?: string };

/**
 * Fetches one attachment through its channel, refusing it before any byte moves when the platform
 * already states a size over the limit, and again when more arrived than the limit allows (an
 * adapter that ignored maxBytes, or a platform that understated the size).
 */
export async function downloadAttachment(channel: Channel, attachment: InboundAttachment, opts: DownloadOptions): Promise<DownloadResult> {
  if (attachment.bytes !== undefined && attachment.bytes > opts.maxBytes) return { ok: false, reason: 'too_large' };
  if (!channel.downloadAttachment) return { ok: false, reason: 'unsupported' };
  if (opts.signal.aborted) return { ok: false, reason: 'aborted' };
  let data: Buffer;
  try {
    data = await abortable(channel.downloadAttachment(attachment, { maxBytes: opts.maxBytes, signal: opts.signal }), opts.signal);
  } catch (err) {
    if (err instanceof AttachmentTooLargeError) return { ok: false, reason: 'too_large' };
    if (opts.signal.aborted) return { ok: false, reason: 'aborted' };
    return { ok: false, reason: 'failed', error: (err as Error).message };
  }
  if (data.length > opts.maxBytes) return { ok: false, reason: 'too_large' };
  if (data.length === 0) return { ok: false, reason: 'empty' };
  return { ok: true, data };
}

/** An adapter that does not watch the signal still cannot hold the turn: the wait ends when it fires. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('download stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

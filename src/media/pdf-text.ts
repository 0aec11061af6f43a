import { Worker } from 'node:worker_threads';
import type { PdfJob, PdfOutcome } from './pdf-text-worker.js';

export interface PdfLimits {
  maxPages: number;
  maxChars: number;
  /** How long the reading may take before the worker is ended. */
  timeoutMs: number;
  /** Ends it early (the turn stopped). */
  signal?: AbortSignal;
  /** Sets the timer; injectable so tests need not wait. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void } | undefined;
}

export type PdfText = PdfOutcome & { timedOut?: boolean };

/** The heap a PDF may use while it is read; a bomb that wants more ends the worker, not the host. */
const WORKER_HEAP_MB = 192;

/**
 * Text of a PDF, read page by page in a worker thread with a page cap, a character cap and a time
 * bound: a 10,000-page file or a bomb ends with what was read so far (or nothing) and a reason,
 * never with a host that hangs or runs out of memory.
 */
export function pdfText(data: Buffer, limits: PdfLimits): Promise<PdfText> {
  const job: PdfJob = { data: new Uint8Array(data), maxPages: limits.maxPages, maxChars: limits.maxChars };
  const worker = new Worker(new URL('./pdf-text-worker.js', import.meta.url), {
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  return new Promise<PdfText>((resolve) => {
    let done = false;
    const finish = (outcome: PdfText) => {
      if (done) return;
      done = true;
      limits.signal?.removeEventListener('abort', stop);
      void worker.terminate();
      resolve(outcome);
    };
    const failed = (error: string, timedOut = false): PdfText => ({ ok: false, text: '', pages: 0, pagesRead: 0, error, ...(timedOut && { timedOut }) });
    const stop = () => finish(failed('the reading was stopped', true));
    const setTimer = limits.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    setTimer(() => finish(failed(`reading took longer than ${Math.round(limits.timeoutMs / 1000)} seconds`, true)), limits.timeoutMs)?.unref?.();
    limits.signal?.addEventListener('abort', stop, { once: true });
    if (limits.signal?.aborted) stop();
    worker.once('message', (outcome: PdfOutcome) => finish(outcome));
    worker.once('error', (err) => finish(failed(err.message)));
    worker.once('exit', (code) => finish(failed(`the reader stopped (code ${code})`)));
  });
}

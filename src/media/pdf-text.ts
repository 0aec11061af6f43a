import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PdfOutcome } from './pdf-text-worker.js';

export interface PdfLimits {
  maxPages: number;
  maxChars: number;
  /** How long the reading may take before the reader is ended. */
  timeoutMs: number;
  /** Ends it early (the turn stopped). */
  signal?: AbortSignal;
  /** Sets the timer; injectable so tests need not wait. */
  setTimer?: (fn: () => void, ms: number) => { unref?: () => void } | undefined;
  /** Address space the reader may map, in MB (tests lower it). */
  memoryMb?: number;
}

export type PdfText = PdfOutcome & { timedOut?: boolean };

/**
 * Address space of the reading process. Node itself reserves about 800 MB of it before reading a byte
 * (V8's code range and heap cages), so this leaves a few hundred MB for pdf.js: a stream that inflates
 * past that ends the reader, whose memory the OS takes back whole.
 */
export const PDF_READER_MEMORY_MB = 1280;
/** JS heap of the reader, below its address space so a heap-heavy PDF fails as cleanly as a stream bomb. */
const READER_HEAP_MB = 192;
/** The worker sends at most 4 × maxChars characters; JSON may escape each to 6 bytes. */
const answerBytes = (maxChars: number) => maxChars * 4 * 6 + 64 * 1024;

const WORKER = fileURLToPath(new URL('./pdf-text-worker.js', import.meta.url));

export const PDF_UNREADABLE = 'it needs more memory than a document may use, or is damaged';

/**
 * Text of a PDF, read page by page in a child process with an OS memory limit (`ulimit -v`), a page
 * cap, a character cap and a time bound. A worker thread is not enough: pdf.js keeps decoded streams
 * in typed arrays outside the JS heap, so a 1 MB file could grow the host by gigabytes. A 10,000-page
 * file or a bomb ends with what was read so far (or nothing) and a reason, never with a host that
 * hangs or runs out of memory.
 */
export function pdfText(data: Buffer, limits: PdfLimits): Promise<PdfText> {
  const memoryKb = Math.floor((limits.memoryMb ?? PDF_READER_MEMORY_MB) * 1024);
  const child = spawn(
    '/bin/sh',
    ['-c', 'ulimit -v "$1" || exit 99; shift; exec "$@"', 'sh', String(memoryKb), process.execPath, `--max-old-space-size=${READER_HEAP_MB}`, WORKER, String(limits.maxPages), String(limits.maxChars)],
    { stdio: ['pipe', 'pipe', 'ignore'], env: {} },
  );
  return new Promise<PdfText>((resolve) => {
    let done = false;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: PdfText) => {
      if (done) return;
      done = true;
      limits.signal?.removeEventListener('abort', stop);
      child.kill('SIGKILL');
      resolve(outcome);
    };
    const failed = (error: string, timedOut = false): PdfText => ({ ok: false, text: '', pages: 0, pagesRead: 0, error, ...(timedOut && { timedOut }) });
    const stop = () => finish(failed('the reading was stopped', true));
    const setTimer = limits.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    setTimer(() => finish(failed(`reading took longer than ${Math.round(limits.timeoutMs / 1000)} seconds`, true)), limits.timeoutMs)?.unref?.();
    limits.signal?.addEventListener('abort', stop, { once: true });
    if (limits.signal?.aborted) stop();
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > answerBytes(limits.maxChars)) return finish(failed(PDF_UNREADABLE));
      chunks.push(chunk);
    });
    child.once('error', () => finish(failed(PDF_UNREADABLE)));
    child.once('close', (code) => {
      if (code !== 0) return finish(failed(PDF_UNREADABLE));
      try {
        finish(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PdfOutcome);
      } catch {
        finish(failed(PDF_UNREADABLE));
      }
    });
    // The reader may die before it has read everything: that is its failure, not the host's.
    child.stdin.on('error', () => undefined);
    child.stdin.end(data);
  });
}

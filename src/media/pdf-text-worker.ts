/*
 * Runs in a worker thread (pdf-text.ts starts it): pdf.js reads the file here, so a PDF that makes
 * it spin or eat memory is ended by terminating the worker, never by waiting on the host's loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getDocumentProxy } from 'unpdf';

export interface PdfJob {
  data: Uint8Array;
  maxPages: number;
  maxChars: number;
}

export interface PdfOutcome {
  ok: boolean;
  text: string;
  pages: number;
  pagesRead: number;
  error?: string;
}

interface TextItemLike {
  str?: unknown;
  hasEOL?: unknown;
}

async function extract(job: PdfJob): Promise<PdfOutcome> {
  const pdf = await getDocumentProxy(job.data, { isEvalSupported: false, disableFontFace: true, useSystemFonts: false });
  const pages = pdf.numPages;
  const parts: string[] = [];
  let chars = 0;
  let pagesRead = 0;
  for (let n = 1; n <= Math.min(pages, job.maxPages) && chars <= job.maxChars; n++) {
    const page = await pdf.getPage(n);
    const content = await page.getTextContent();
    const text = (content.items as TextItemLike[]).map((item) => (typeof item.str === 'string' ? item.str + (item.hasEOL === true ? '\n' : '') : '')).join('');
    parts.push(text.trim());
    chars += text.length;
    pagesRead = n;
    page.cleanup();
  }
  await pdf.destroy();
  return { ok: true, text: parts.join('\n\n'), pages, pagesRead };
}

const job = workerData as PdfJob;
extract(job).then(
  (outcome) => parentPort?.postMessage(outcome),
  (err: unknown) => parentPort?.postMessage({ ok: false, text: '', pages: 0, pagesRead: 0, error: err instanceof Error ? err.message : String(err) } satisfies PdfOutcome),
);

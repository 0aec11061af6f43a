/*
 * Runs as a child process (pdf-text.ts starts it under an address-space limit): pdf.js reads the
 * file here, so a PDF that makes it spin or inflates streams to gigabytes ends this process, never
 * the host. The PDF arrives on stdin, the limits as arguments; one JSON outcome leaves on stdout.
 */
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

/** Text sent back, in multiples of the character cap (enough to say how far over the cap it went). */
const MAX_TEXT_FACTOR = 4;

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
  // The host reads a bounded answer: a page of megabytes is cut here, well past the caller's cap.
  return { ok: true, text: parts.join('\n\n').slice(0, job.maxChars * MAX_TEXT_FACTOR), pages, pagesRead };
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function reply(outcome: PdfOutcome): void {
  process.stdout.write(JSON.stringify(outcome), () => process.exit(0));
}

const [maxPages, maxChars] = process.argv.slice(2).map(Number);
readStdin()
  .then((data) => extract({ data, maxPages: maxPages ?? 1, maxChars: maxChars ?? 0 }))
  .then(reply, (err: unknown) => reply({ ok: false, text: '', pages: 0, pagesRead: 0, error: err instanceof Error ? err.message : String(err) }));

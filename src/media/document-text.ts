import { pdfText, type PdfLimits } from './pdf-text.js';
import type { SniffedType } from './sniff.js';

export interface DocumentText {
  /** The text the agent reads, within maxChars; empty when none could be read. */
  text: string;
  /** Why the text is partial or missing, for the agent (and the person reading its answer). */
  notice?: string;
  /** Set when a PDF could not be read at all (a bomb, a damaged file, out of time): the chat is told. */
  unreadable?: string;
}

export type DocumentLimits = Omit<PdfLimits, 'maxChars'> & { maxChars: number };

function capped(text: string, maxChars: number, extra?: string): DocumentText {
  const clean = text.replace(/^\uFEFF/, '');
  if (clean.length <= maxChars) return { text: clean, ...(extra && { notice: extra }) };
  const cut = `only the first ${maxChars} of ${clean.length} characters are included`;
  return { text: clean.slice(0, maxChars), notice: extra ? `${extra}; ${cut}` : cut };
}

/**
 * The readable text of a received document: UTF-8 text as it is, a PDF through pdf-text.ts, within
 * the character (and page) caps. Any other type is not read: undefined.
 */
export async function documentText(data: Buffer, type: SniffedType, limits: DocumentLimits): Promise<DocumentText | undefined> {
  if (type.category === 'text') return capped(data.toString('utf8'), limits.maxChars);
  if (type.category !== 'pdf') return undefined;
  const pdf = await pdfText(data, limits);
  if (!pdf.ok) {
    const why = pdf.error ?? 'it is damaged';
    return { text: '', notice: `its text could not be read (${why})`, unreadable: why };
  }
  const pageNote = pdf.pagesRead < pdf.pages ? `only the first ${pdf.pagesRead} of ${pdf.pages} pages were read` : undefined;
  if (pdf.text.trim() === '') return { text: '', notice: pageNote ? `${pageNote}; they hold no text (a scan?)` : 'it holds no text (a scan?)' };
  return capped(pdf.text, limits.maxChars, pageNote);
}

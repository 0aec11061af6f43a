/**
 * The one block chunker every channel shares: the outbox splits a whole reply with splitMessage,
 * a live reply splits the growing answer the same way (so the live messages end as exactly the
 * outbox's chunks), and a blocks-mode live reply takes complete blocks with nextBlock.
 *
 * Cuts prefer a paragraph, then a line, then a sentence, then a word boundary, outside a ```
 * code fence when one exists; a cut forced inside a fence closes it at the end of the piece and
 * opens it again (same language) at the start of the next, so every piece renders as code.
 */

/** Below this limit pieces are too small to carry a fence marker on top. */
const MIN_LIMIT_FOR_FENCES = 100;
const FENCE_CLOSE = '\n```';
/** A fence's info string longer than this is not repeated when it is reopened. */
const MAX_FENCE_INFO = 16;

export interface Cut {
  /** End of this piece (the separator itself is dropped). */
  end: number;
  /** Start of the next piece. */
  next: number;
  /** The fence line to reopen the next piece with, when the cut is inside a code fence. */
  reopen?: string;
}

/** Splits text into pieces of at most `limit` characters (see the file comment for where it cuts). */
export function splitMessage(text: string, limit: number): string[] {
  if (limit < 1) throw new Error('limit must be positive');
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const piece = takePiece(rest, limit);
    chunks.push(piece.text);
    rest = piece.rest;
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}

/**
 * One piece cut from the front of a text: the piece, where the rest of the text starts, and the
 * fence line the rest is reopened with when the cut was inside code; rest is the two joined.
 */
export interface Piece {
  text: string;
  next: number;
  reopen?: string;
  rest: string;
}

/** The first piece of text within limit (fence closed when cut inside one) and what follows it. */
export function takePiece(text: string, limit: number, index: FenceIndex = new FenceIndex(text)): Piece {
  const fences = limit >= MIN_LIMIT_FOR_FENCES;
  let cut = bestCut(text, limit, index);
  if (fences && index.openAt(cut.end) !== undefined) cut = bestCut(text, limit - FENCE_CLOSE.length, index);
  const fence = fences ? index.openAt(cut.end) : undefined;
  if (fence === undefined) return { text: text.slice(0, cut.end), next: cut.next, rest: text.slice(cut.next) };
  return { text: `${text.slice(0, cut.end)}${FENCE_CLOSE}`, next: cut.next, reopen: fence, rest: `${fence}\n${text.slice(cut.next)}` };
}

/**
 * For an answer that is still being written: the first complete block of at least minChars
 * (ending at a paragraph boundary outside a code fence), or a forced piece once the text passed
 * maxChars; undefined while neither is there yet.
 */
export function nextBlock(text: string, minChars: number, maxChars: number): Piece | undefined {
  // One scan for the fences: each candidate is looked up, not rescanned (a text of blank lines inside code has thousands).
  const index = new FenceIndex(text);
  let at = text.indexOf('\n\n', Math.max(0, minChars));
  while (at !== -1 && at <= maxChars) {
    if (index.openAt(at) === undefined) {
      const block = text.slice(0, at).trimEnd();
      let next = at + 2;
      while (text[next] === '\n') next++;
      if (block.length > 0) return { text: block, next, rest: text.slice(next) };
    }
    at = text.indexOf('\n\n', at + 1);
  }
  return text.length > maxChars ? takePiece(text, maxChars, index) : undefined;
}

const SEPARATORS = ['\n\n', '\n', '. ', ' '];

function bestCut(text: string, limit: number, index: FenceIndex): Cut {
  const floor = Math.floor(limit / 3);
  for (const outsideCode of [true, false]) {
    for (const sep of SEPARATORS) {
      let at = text.lastIndexOf(sep, limit - (sep === '. ' ? 1 : 0));
      while (at > floor) {
        // A sentence keeps its full stop; the space after it is dropped.
        const end = sep === '. ' ? at + 1 : at;
        if (end <= limit && (!outsideCode || index.openAt(end) === undefined)) return { end, next: at + sep.length };
        at = text.lastIndexOf(sep, at - 1);
      }
    }
  }
  return { end: limit, next: limit };
}

/** The fence line (``` plus its language) of the code block index falls in; undefined outside code. */
export function openFenceAt(text: string, index: number): string | undefined {
  return new FenceIndex(text).openAt(index);
}

/**
 * The fence lines of one text, found in one pass, so the chunker can ask at many indexes without
 * rescanning the text each time (that was quadratic: a hostile live answer of blank lines inside
 * code held the host's event loop for seconds). openAt(i) answers as a scan of text.slice(0, i) would.
 */
export class FenceIndex {
  /** Where each fence's ``` ends, and the info string after it. */
  private readonly marks: { end: number; info: string }[] = [];

  constructor(text: string) {
    for (const match of text.matchAll(/^([ \t]*```)([^\n`]*)/gm)) this.marks.push({ end: match.index + match[1]!.length, info: match[2]! });
  }

  openAt(index: number): string | undefined {
    // The fences whose ``` lies wholly before index toggle code on and off.
    let lo = 0;
    let hi = this.marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.marks[mid]!.end <= index) lo = mid + 1;
      else hi = mid;
    }
    if (lo % 2 === 0) return undefined;
    const mark = this.marks[lo - 1]!;
    return `\`\`\`${mark.info.slice(0, Math.max(0, index - mark.end)).trim().slice(0, MAX_FENCE_INFO)}`;
  }
}

import { MIN_SECRET_CHARS, REDACTED } from '../logger.js';

export { MIN_SECRET_CHARS, REDACTED };
const REDACTED_BYTES = Buffer.from(REDACTED);

/** The spellings a secret can have in a JSON body: as it is, JSON-escaped, and with "/" escaped too. */
function spellings(secret: string): string[] {
  const escaped = JSON.stringify(secret).slice(1, -1);
  return [secret, escaped, escaped.replace(/\//g, '\\/')];
}

function patternsOf(secrets: readonly string[]): Buffer[] {
  const unique = new Set(secrets.filter((s) => s.length >= MIN_SECRET_CHARS).flatMap(spellings));
  // Longest first, so at one position the whole of the longer secret is replaced.
  return [...unique].map((s) => Buffer.from(s, 'utf8')).sort((a, b) => b.length - a.length);
}

/**
 * Replaces every secret value in a byte stream, wherever the stream's chunks split it. At each
 * chunk's end it holds back only bytes that could be the start of a secret (at most the longest
 * secret's length minus one): a secret that starts before them is wholly in hand, one that may
 * start among them waits for the next chunk.
 */
export class StreamScrubber {
  private readonly patterns: Buffer[];
  /** All patterns in one expression over the bytes read as latin1 (one character per byte), longest first. */
  private readonly matcher: RegExp;
  private readonly hold: number;
  private carry: Buffer = Buffer.alloc(0);

  constructor(secrets: readonly string[]) {
    this.patterns = patternsOf(secrets);
    this.matcher = new RegExp(this.patterns.map((p) => p.toString('latin1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') || '(?!)', 'g');
    this.hold = Math.max(0, ...this.patterns.map((p) => p.length - 1));
  }

  /** The bytes that may be passed on now. */
  push(chunk: Buffer): Buffer {
    if (this.patterns.length === 0) return chunk;
    return this.scan(this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk, false);
  }

  /** The bytes held back, once the stream has ended. */
  end(): Buffer {
    return this.scan(this.carry, true);
  }

  private scan(data: Buffer, final: boolean): Buffer {
    const holdFrom = final ? data.length : data.length - this.partialSecretAtEnd(data);
    const out: Buffer[] = [];
    const bytes = data.toString('latin1');
    let pos = 0;
    this.matcher.lastIndex = 0;
    for (let match = this.matcher.exec(bytes); match && match.index < holdFrom; match = this.matcher.exec(bytes)) {
      out.push(data.subarray(pos, match.index), REDACTED_BYTES);
      pos = match.index + match[0].length;
    }
    const emitEnd = Math.max(pos, holdFrom);
    out.push(data.subarray(pos, emitEnd));
    this.carry = Buffer.from(data.subarray(emitEnd));
    return Buffer.concat(out);
  }

  /** How many bytes at the end of data are the beginning of some secret (and could be more of it). */
  private partialSecretAtEnd(data: Buffer): number {
    let longest = 0;
    for (const pattern of this.patterns) {
      // The earliest start in the last pattern.length - 1 bytes whose rest matches the pattern's beginning.
      for (let start = Math.max(0, data.length - pattern.length + 1); start < data.length - longest; start++) {
        if (data[start] === pattern[0] && data.compare(pattern, 0, data.length - start, start) === 0) {
          longest = data.length - start;
          break;
        }
      }
    }
    return longest;
  }
}

/** A whole body with every secret value replaced. */
export function scrubBytes(body: Buffer, secrets: readonly string[]): Buffer {
  const scrubber = new StreamScrubber(secrets);
  return Buffer.concat([scrubber.push(body), scrubber.end()]);
}

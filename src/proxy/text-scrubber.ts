import { MIN_SECRET_CHARS, REDACTED, scrubSecrets } from '../logger.js';

/** The secrets worth matching, longest first, so at one position the whole of the longer one is replaced. */
export function scrubbableSecrets(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_CHARS))].sort((a, b) => b.length - a.length);
}

/** A whole text with every secret replaced (secrets from scrubbableSecrets). */
export const scrubText = scrubSecrets;

/** How many characters at the end of text are the beginning of some secret (and could be more of it). */
function partialAtEnd(text: string, secrets: readonly string[]): number {
  let longest = 0;
  for (const secret of secrets) {
    for (let start = Math.max(0, text.length - secret.length + 1); start < text.length - longest; start++) {
      if (text.charCodeAt(start) === secret.charCodeAt(0) && secret.startsWith(text.slice(start))) {
        longest = text.length - start;
        break;
      }
    }
  }
  return longest;
}

/**
 * Scrubs one text that a client joins from many pieces (a choice's content over many events),
 * holding back only a tail that could begin a secret. Works on characters, so a piece is never
 * cut inside one.
 */
export class JoinedTextScrubber {
  private carry = '';

  constructor(private readonly secrets: readonly string[]) {}

  push(piece: string): string {
    const text = scrubText(this.carry + piece, this.secrets);
    const held = partialAtEnd(text, this.secrets);
    this.carry = text.slice(text.length - held);
    return text.slice(0, text.length - held);
  }

  end(): string {
    const rest = this.carry;
    this.carry = '';
    return rest;
  }
}

/**
 * For a value a client usually takes whole (an id, a role, a name) but may join: it cannot be cut
 * or held back without breaking honest answers, so a piece that completes a secret with the pieces
 * before it is replaced whole.
 */
export class WholeValueScrubber {
  private seen = '';
  private readonly keep: number;

  constructor(private readonly secrets: readonly string[]) {
    this.keep = Math.max(0, ...secrets.map((s) => s.length - 1));
  }

  push(piece: string): string {
    const joined = this.seen + piece;
    this.seen = joined.slice(Math.max(0, joined.length - this.keep));
    return scrubText(joined, this.secrets) === joined ? piece : REDACTED;
  }
}

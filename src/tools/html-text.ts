/** Characters of HTML converted at most; the rest of a longer page is not looked at. */
export const MAX_HTML_CHARS = 1024 * 1024;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
/** Elements whose content is not text a reader sees. */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'head', 'title']);
const BLOCKS = new Set(['br', 'p', 'div', 'section', 'article', 'header', 'footer', 'li', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'tr', 'table', 'pre', 'blockquote']);

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,8}|#\d{1,8}|[a-z]{1,32});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1]?.toLowerCase() === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function isNameChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57);
}

/**
 * One pass over the page. Every search starts where the last one ended or is remembered, so each
 * character is looked at a bounded number of times whatever the page holds (a regex over
 * "<<<<..." looks at the rest of the page again for every "<"). `steps` counts the characters
 * looked at, so tests can check that the work grows with the input, not with its square.
 */
class HtmlScanner {
  steps = 0;
  private readonly lower: string;
  private nextGt = -1;
  private readonly parts: string[] = [];

  constructor(private readonly html: string) {
    this.lower = html.toLowerCase();
    this.steps += html.length;
  }

  /** indexOf, counting the characters it passed over. */
  private find(needle: string, from: number): number {
    const at = this.lower.indexOf(needle, from);
    this.steps += (at === -1 ? this.lower.length : at) - from + needle.length;
    return at;
  }

  /** The first ">" at or after `from`; remembered, so many "<" before one ">" do not search again. */
  private gtFrom(from: number): number {
    if (this.nextGt !== Infinity && this.nextGt < from) {
      const at = this.find('>', from);
      this.nextGt = at === -1 ? Infinity : at;
    }
    return this.nextGt;
  }

  private tagName(from: number): string {
    let end = from;
    while (end < this.html.length && end - from < 16 && isNameChar(this.html.charCodeAt(end))) end += 1;
    this.steps += end - from;
    return this.lower.slice(from, end);
  }

  /** The first <title>'s text, which usually sits in the <head> the body text leaves out. */
  findTitle(): string | undefined {
    for (let from = 0; ; ) {
      const at = this.find('<title', from);
      if (at === -1) return undefined;
      if (isNameChar(this.lower.charCodeAt(at + 6))) {
        from = at + 6;
        continue;
      }
      const gt = this.gtFrom(at + 6);
      if (gt === Infinity) return undefined;
      const end = this.find('</title', gt + 1);
      return end === -1 ? undefined : decodeEntities(this.html.slice(gt + 1, end)).trim();
    }
  }

  run(): string {
    const html = this.html;
    this.nextGt = -1;
    let i = 0;
    while (i < html.length) {
      const lt = this.find('<', i);
      if (lt === -1) {
        this.parts.push(html.slice(i));
        break;
      }
      this.parts.push(html.slice(i, lt));
      if (this.lower.startsWith('<!--', lt)) {
        const end = this.find('-->', lt + 4);
        if (end === -1) break;
        this.parts.push(' ');
        i = end + 3;
        continue;
      }
      const gt = this.gtFrom(lt + 1);
      if (gt === Infinity) {
        this.parts.push(html.slice(lt));
        break;
      }
      if (gt === lt + 1) {
        // "<>" is no tag: the old conversion kept it as text too.
        this.parts.push('<>');
        i = gt + 1;
        continue;
      }
      const closing = html[lt + 1] === '/';
      const name = this.tagName(closing ? lt + 2 : lt + 1);
      i = gt + 1;
      if (!closing && SKIPPED.has(name)) {
        const end = this.find(`</${name}`, i);
        if (end === -1) break;
        this.parts.push(' ');
        i = this.gtFrom(end) === Infinity ? html.length : this.nextGt + 1;
        continue;
      }
      this.parts.push(BLOCKS.has(name) ? '\n' : ' ');
    }
    return this.parts.join('');
  }
}

/** Readable text of an HTML page (at most its first MAX_HTML_CHARS): title, then body text with block elements as line breaks. */
export function htmlToTextCounted(html: string): { text: string; steps: number } {
  const scanner = new HtmlScanner(html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html);
  const title = scanner.findTitle();
  const body = scanner.run();
  const text = decodeEntities(body)
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v\r]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
  return { text: title ? `${title}\n\n${text}` : text, steps: scanner.steps };
}

export function htmlToText(html: string): string {
  return htmlToTextCounted(html).text;
}

import { StringDecoder } from 'node:string_decoder';

/** One dispatched server-sent event: its type (the `event:` field) and its data lines joined with "\n". */
export interface SseEvent {
  type: string | undefined;
  data: string;
}

/** What an event-stream parser hands on: events, and comments (kept only as a sign of life). */
export type SseItem = { kind: 'event'; event: SseEvent } | { kind: 'comment' };

/** The stream cannot be read as events the way every client would read them; it must not be passed on. */
export class SseFramingError extends Error {
  /** The scrubbed events that came before the unreadable one in the same read: still the agent's. */
  before?: Buffer;
}

const BOM = '\uFEFF';
/** A longer event ends the stream with an error: it would have to pass unread. */
export const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * Reads an event stream as the HTML specification's parser does: lines end with CRLF, CR or LF
 * (also across chunk boundaries), a leading BOM is dropped, `:` lines are comments, a field name
 * runs to the first colon and one space after it is dropped, `data` lines are joined with "\n",
 * and a blank line dispatches an event whose data is not empty. An event whose text passes
 * maxEventChars is an error rather than something passed on unread.
 */
export class SseEventParser {
  private readonly decoder = new StringDecoder('utf8');
  private started = false;
  private line = '';
  /** A CR ended the last line; an LF right after it belongs to that line end. */
  private afterCr = false;
  private type: string | undefined;
  private data: string[] = [];
  private eventChars = 0;

  constructor(private readonly maxEventChars: number) {}

  push(chunk: Buffer): SseItem[] {
    return this.read(this.decoder.write(chunk));
  }

  /** Whatever is left when the stream ends: an unfinished event is dispatched, so nothing is lost or passed unread. */
  end(): SseItem[] {
    const items = this.read(this.decoder.end());
    if (this.line !== '') items.push(...this.takeLine());
    items.push(...this.dispatch());
    return items;
  }

  private read(input: string): SseItem[] {
    let text = input;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    const items: SseItem[] = [];
    let start = 0;
    if (this.afterCr && text.startsWith('\n')) start = 1;
    this.afterCr = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line += text.slice(start, i);
      items.push(...this.takeLine());
      if (c === 13) {
        if (i + 1 === text.length) this.afterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.line += text.slice(start);
    this.checkSize(this.line.length);
    return items;
  }

  private takeLine(): SseItem[] {
    const line = this.line;
    this.line = '';
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return [{ kind: 'comment' }];
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.checkSize(value.length + 1);
      this.eventChars += value.length + 1;
      this.data.push(value);
    } else if (field === 'event') {
      this.type = value;
    }
    // id and retry steer a client's reconnection, which the proxy does not offer; unknown fields are ignored by every client.
    return [];
  }

  private dispatch(): SseItem[] {
    const data = this.data;
    const type = this.type;
    this.data = [];
    this.type = undefined;
    this.eventChars = 0;
    if (data.length === 0) return [];
    return [{ kind: 'event', event: { type, data: data.join('\n') } }];
  }

  private checkSize(more: number): void {
    if (this.eventChars + more > this.maxEventChars) {
      throw new SseFramingError(`an event of the answer stream is longer than ${this.maxEventChars} characters`);
    }
  }
}

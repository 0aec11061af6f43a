import { StringDecoder } from 'node:string_decoder';
import { MIN_SECRET_CHARS, REDACTED, StreamScrubber } from './secret-scrubber.js';

/** A longer unfinished line is passed on without being read as an event (the byte scrubber still runs). */
const MAX_LINE_CHARS = 1024 * 1024;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Scrubs one text that arrives in pieces (a choice's content over many deltas), holding back only
 * a tail that could begin a secret. Works on characters, so a piece is never cut inside one.
 */
class TextScrubber {
  private carry = '';

  constructor(private readonly secrets: readonly string[]) {}

  push(piece: string): string {
    let text = this.carry + piece;
    for (const s of this.secrets) text = text.split(s).join(REDACTED);
    const held = this.partialAtEnd(text);
    this.carry = text.slice(text.length - held);
    return text.slice(0, text.length - held);
  }

  end(): string {
    const rest = this.carry;
    this.carry = '';
    return rest;
  }

  private partialAtEnd(text: string): number {
    let longest = 0;
    for (const secret of this.secrets) {
      for (let start = Math.max(0, text.length - secret.length + 1); start < text.length - longest; start++) {
        if (text.charCodeAt(start) === secret.charCodeAt(0) && secret.startsWith(text.slice(start))) {
          longest = text.length - start;
          break;
        }
      }
    }
    return longest;
  }
}

/** The text fields of one choice's delta that a client joins across events. */
function textFields(delta: Fields): Array<{ holder: Fields; key: string; path: string }> {
  const found: Array<{ holder: Fields; key: string; path: string }> = [];
  for (const key of ['content', 'refusal', 'reasoning_content', 'reasoning']) {
    if (typeof delta[key] === 'string') found.push({ holder: delta, key, path: key });
  }
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls) {
      const fn = isObject(call) ? call.function : undefined;
      if (isObject(fn) && typeof fn.arguments === 'string') found.push({ holder: fn, key: 'arguments', path: `tool_calls.${String(call.index)}` });
    }
  }
  return found;
}

/**
 * Scrubs an event stream at two levels. Each chat-completions event's text pieces are scrubbed
 * as the client will join them (per choice and field), so a secret sent a few characters per
 * event is caught too; what is held back is sent with the choice's finishing event. Then every
 * byte passes the byte-level scrubber, for anything outside those fields.
 */
export class SseSecretScrubber {
  private readonly secrets: string[];
  private readonly bytes: StreamScrubber;
  private readonly decoder = new StringDecoder('utf8');
  private readonly texts = new Map<string, TextScrubber>();
  private partial = '';
  private passingLongLine = false;

  constructor(secrets: readonly string[]) {
    this.secrets = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_CHARS))];
    this.bytes = new StreamScrubber(secrets);
  }

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return this.bytes.push(chunk);
    const text = this.decoder.write(chunk);
    let out = '';
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl + 1);
      start = nl + 1;
      if (this.passingLongLine) {
        this.passingLongLine = false;
        out += piece;
        continue;
      }
      out += this.line(this.partial + piece);
      this.partial = '';
    }
    const rest = text.slice(start);
    if (this.passingLongLine) out += rest;
    else this.partial += rest;
    if (this.partial.length > MAX_LINE_CHARS) {
      out += this.partial;
      this.partial = '';
      this.passingLongLine = true;
    }
    return this.bytes.push(Buffer.from(out, 'utf8'));
  }

  end(): Buffer {
    const tail = this.partial + this.decoder.end() + this.heldEvents();
    this.partial = '';
    return Buffer.concat([this.bytes.push(Buffer.from(tail, 'utf8')), this.bytes.end()]);
  }

  /** One whole line (with its line break): an event rewritten when its text changed, else as it came. */
  private line(raw: string): string {
    if (!raw.startsWith('data:')) return raw;
    if (raw.slice(5).trim() === '[DONE]') return this.heldEvents() + raw;
    let event: unknown;
    try {
      event = JSON.parse(raw.slice(5));
    } catch {
      return raw;
    }
    if (!isObject(event) || !Array.isArray(event.choices)) return raw;
    let changed = false;
    for (const choice of event.choices) {
      if (!isObject(choice)) continue;
      const delta = isObject(choice.delta) ? choice.delta : undefined;
      const index = String(choice.index ?? 0);
      for (const field of delta ? textFields(delta) : []) {
        const value = field.holder[field.key] as string;
        const scrubbed = this.scrubber(`${index}.${field.path}`).push(value);
        if (scrubbed !== value) {
          field.holder[field.key] = scrubbed;
          changed = true;
        }
      }
      if (choice.finish_reason != null) changed = this.flushChoice(index, choice) || changed;
    }
    if (!changed) return raw;
    const ending = raw.endsWith('\r\n') ? '\r\n' : raw.endsWith('\n') ? '\n' : '';
    return `data: ${JSON.stringify(event)}${ending}`;
  }

  /** A finished choice gets whatever its text scrubbers still hold, each in the field it came from. */
  private flushChoice(index: string, choice: Fields): boolean {
    let flushed = false;
    for (const [path, scrubber] of this.texts) {
      if (!path.startsWith(`${index}.`)) continue;
      this.texts.delete(path);
      const held = scrubber.end();
      if (held === '') continue;
      flushed = true;
      const delta = isObject(choice.delta) ? choice.delta : (choice.delta = {});
      const field = path.slice(index.length + 1);
      if (field.startsWith('tool_calls.')) {
        const calls = Array.isArray(delta.tool_calls) ? delta.tool_calls : (delta.tool_calls = []);
        calls.push({ index: Number(field.slice('tool_calls.'.length)), function: { arguments: held } });
      } else {
        delta[field] = `${typeof delta[field] === 'string' ? (delta[field] as string) : ''}${held}`;
      }
    }
    return flushed;
  }

  /** Text still held for choices that never finished, as events of their own. */
  private heldEvents(): string {
    const indexes = new Set([...this.texts.keys()].map((path) => path.split('.')[0]!));
    let events = '';
    for (const index of indexes) {
      const choice: Fields = { index: Number(index), delta: {} };
      if (this.flushChoice(index, choice)) events += `data: ${JSON.stringify({ choices: [choice] })}\n\n`;
    }
    return events;
  }

  private scrubber(path: string): TextScrubber {
    let scrubber = this.texts.get(path);
    if (!scrubber) this.texts.set(path, (scrubber = new TextScrubber(this.secrets)));
    return scrubber;
  }
}

import { scrubJsonStrings } from './json-scrub.js';
import { StreamScrubber } from './secret-scrubber.js';
import { MAX_EVENT_CHARS, SseEventParser, SseFramingError, type SseEvent, type SseItem } from './sse-events.js';
import { JoinedTextScrubber, WholeValueScrubber, scrubbableSecrets, scrubText } from './text-scrubber.js';

/** Delta values a client takes whole (or may join): never cut or held back, replaced whole when they complete a secret. */
const WHOLE_VALUE_KEYS = new Set(['role', 'type', 'id', 'name']);

type Fields = Record<string, unknown>;
/** A step on the way to a string in a delta: an object key, or an array element by its `index` field or place. */
type Segment = string | { index: number; named: boolean };

interface Joined {
  choice: number;
  segments: Segment[];
  scrubber: JoinedTextScrubber | WholeValueScrubber;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A choice's or tool call's index as clients match it; anything but a whole number is refused (a client might read "0 " as 0). */
function wholeIndex(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new SseFramingError(`an event of the answer stream has an index that is not a whole number: ${JSON.stringify(value).slice(0, 40)}`);
}

function arraySegment(item: unknown, position: number): Segment {
  return isObject(item) && Object.hasOwn(item, 'index') ? { index: wholeIndex(item.index), named: true } : { index: position, named: false };
}

/** Writes text at segments inside root, creating the objects and array elements on the way (arrays directly in arrays are not). */
function setAt(root: Fields, segments: readonly Segment[], text: string): void {
  let holder: Fields = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const next = segments[i + 1];
    if (typeof segment === 'string') {
      if (next === undefined) holder[segment] = text;
      else if (typeof next === 'string') holder = isObject(holder[segment]) ? holder[segment] : (holder[segment] = {});
      else if (!Array.isArray(holder[segment])) holder[segment] = [];
      continue;
    }
    const listKey = segments[i - 1];
    if (typeof listKey !== 'string') return;
    const list = holder[listKey] as Fields[];
    let item = list.find((el) => el.index === segment.index);
    if (!item) list.push((item = segment.named ? { index: segment.index } : {}));
    if (next === undefined) return;
    holder = item;
  }
}

/**
 * Scrubs an event stream. It is read as every client reads it (SseEventParser), and each event is
 * written out again in one canonical form (`data: <one line of JSON>`), so no framing trick can
 * make a client see text the scrubber did not. In each event every string, keys included, is
 * scrubbed after JSON decoding; every string in a choice's delta is also scrubbed as the client
 * joins it over events (per choice and path), holding back a tail that could begin a secret until
 * more arrives or the stream ends. An event that is not JSON, too long or oddly indexed throws
 * SseFramingError: the stream must end there. Then every byte passes the byte-level scrubber.
 */
export class SseSecretScrubber {
  private readonly secrets: string[];
  private readonly bytes: StreamScrubber;
  private readonly parser = new SseEventParser(MAX_EVENT_CHARS);
  private readonly joined = new Map<string, Joined>();
  private done = false;

  constructor(secrets: readonly string[]) {
    this.secrets = scrubbableSecrets(secrets);
    this.bytes = new StreamScrubber(secrets);
  }

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return this.bytes.push(chunk);
    return this.bytes.push(Buffer.from(this.write(this.parser.push(chunk)), 'utf8'));
  }

  end(): Buffer {
    if (this.secrets.length === 0) return this.bytes.end();
    const tail = this.write(this.parser.end()) + (this.done ? '' : this.heldEvents());
    return Buffer.concat([this.bytes.push(Buffer.from(tail, 'utf8')), this.bytes.end()]);
  }

  private write(items: readonly SseItem[]): string {
    let out = '';
    // After [DONE] a client stops reading; nothing more is passed on.
    for (const item of items) {
      if (this.done) continue;
      try {
        out += item.kind === 'comment' ? ':\n' : this.event(item.event);
      } catch (err) {
        // However the reads were cut, the events before the unreadable one still reach the agent.
        if (err instanceof SseFramingError) err.before = this.bytes.push(Buffer.from(out, 'utf8'));
        throw err;
      }
    }
    return out;
  }

  private event(event: SseEvent): string {
    const head = event.type === undefined ? '' : `event: ${scrubText(event.type, this.secrets)}\n`;
    if (event.data.trim() === '[DONE]') {
      this.done = true;
      return `${this.heldEvents()}${head}data: [DONE]\n\n`;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw new SseFramingError('an event of the answer stream is not JSON');
    }
    if (isObject(parsed) && Array.isArray(parsed.choices)) {
      for (const choice of parsed.choices) {
        if (isObject(choice) && choice.delta !== undefined) choice.delta = this.scrubDelta(wholeIndex(choice.index), choice.delta, []);
      }
    }
    return `${head}data: ${JSON.stringify(scrubJsonStrings(parsed, this.secrets))}\n\n`;
  }

  private scrubDelta(choice: number, value: unknown, segments: Segment[]): unknown {
    if (typeof value === 'string') return this.scrubberAt(choice, segments).push(value);
    if (Array.isArray(value)) return value.map((item: unknown, position) => this.scrubDelta(choice, item, [...segments, arraySegment(item, position)]));
    if (!isObject(value)) return value;
    for (const key of Object.keys(value)) value[key] = this.scrubDelta(choice, value[key], [...segments, key]);
    return value;
  }

  private scrubberAt(choice: number, segments: Segment[]): JoinedTextScrubber | WholeValueScrubber {
    const key = JSON.stringify([choice, segments]);
    let found = this.joined.get(key);
    if (!found) {
      const last = segments.at(-1);
      const whole = typeof last === 'string' && WHOLE_VALUE_KEYS.has(last);
      found = { choice, segments, scrubber: whole ? new WholeValueScrubber(this.secrets) : new JoinedTextScrubber(this.secrets) };
      this.joined.set(key, found);
    }
    return found.scrubber;
  }

  /** Text still held back, one event per choice, each piece where it came from. */
  private heldEvents(): string {
    const choices = new Map<number, Fields>();
    for (const { choice, segments, scrubber } of this.joined.values()) {
      const held = scrubber instanceof JoinedTextScrubber ? scrubber.end() : '';
      if (held === '') continue;
      let delta = choices.get(choice);
      if (!delta) choices.set(choice, (delta = {}));
      setAt(delta, segments, held);
    }
    this.joined.clear();
    let events = '';
    for (const [index, delta] of choices) events += `data: ${JSON.stringify({ choices: [{ index, delta }] })}\n\n`;
    return events;
  }
}

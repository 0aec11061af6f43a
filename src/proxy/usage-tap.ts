import type { TokenUsage } from '../ledger/types.js';
import { usageFromApi } from '../ledger/usage.js';
import { MAX_EVENT_CHARS, SseEventParser, SseFramingError } from './sse-events.js';

const HAS_USAGE_OBJECT = /"usage"\s*:\s*\{/;

interface StreamEvent {
  usage?: unknown;
  type?: unknown;
  response?: { usage?: unknown };
  choices?: unknown;
}

/** An end of the answer: response.completed, or a choice with a finish_reason that says something. */
function finishes(event: StreamEvent): boolean {
  if (event.type === 'response.completed') return true;
  return Array.isArray(event.choices) && event.choices.some((c) => {
    const reason = typeof c === 'object' && c !== null ? (c as { finish_reason?: unknown }).finish_reason : undefined;
    return typeof reason === 'string' && reason !== '';
  });
}

/** Whether the event carries more of the answer (a delta with anything in it). */
function carriesAnswer(event: StreamEvent): boolean {
  if (!Array.isArray(event.choices)) return false;
  return event.choices.some((c) => {
    const delta = typeof c === 'object' && c !== null ? (c as { delta?: unknown }).delta : undefined;
    return typeof delta === 'object' && delta !== null && Object.values(delta).some((v) => v !== null && v !== undefined && v !== '');
  });
}

/**
 * Watches the bytes of a server-sent-events stream as they pass and reads the usage in it
 * (chat-completions chunks carry `usage`, Responses events `response.usage`). It never changes
 * or holds back the bytes; it reads the events as the scrubber and every client do.
 *
 * `usage` is the last usage seen; `finalUsage` only a usage that came with or after the end of
 * the answer (a non-empty finish_reason, response.completed) with no more answer after it. A
 * usage sent early (a prompt-only or running count) is not final: a stream cut after it may have
 * cost much more. More answer after an end makes the answer unfinished again.
 */
export class SseUsageTap {
  private readonly parser = new SseEventParser(MAX_EVENT_CHARS);
  private broken = false;
  usage: TokenUsage | undefined;
  finalUsage: TokenUsage | undefined;
  private finished = false;

  push(chunk: Buffer): void {
    if (this.broken) return;
    try {
      for (const item of this.parser.push(chunk)) if (item.kind === 'event') this.read(item.event.data);
    } catch (err) {
      if (!(err instanceof SseFramingError)) throw err;
      // An unread event may carry more answer.
      this.broken = true;
      this.finalUsage = undefined;
    }
  }

  private read(data: string): void {
    // Only events that can change the usage are parsed: a usage, an end, or anything after one.
    if (!this.finished && this.finalUsage === undefined && !HAS_USAGE_OBJECT.test(data) && !data.includes('finish_reason') && !data.includes('response.completed')) return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const fields = event as StreamEvent;
    if (finishes(fields)) this.finished = true;
    else if (carriesAnswer(fields)) {
      this.finished = false;
      this.finalUsage = undefined;
    }
    const usage = usageFromApi(fields.usage) ?? usageFromApi(fields.response?.usage);
    if (!usage) return;
    this.usage = usage;
    if (this.finished) this.finalUsage = usage;
  }
}

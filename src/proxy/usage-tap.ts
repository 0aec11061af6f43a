import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from '../ledger/types.js';
import { usageFromApi } from '../ledger/usage.js';

/** Longer unfinished lines are skipped: a usage event is small, and the tap must not hoard memory. */
const MAX_LINE_CHARS = 1024 * 1024;
const HAS_USAGE_OBJECT = /"usage"\s*:\s*\{/;
const MAY_FINISH = /"finish_reason"\s*:\s*"|response\.completed/;

interface StreamEvent {
  usage?: unknown;
  type?: unknown;
  response?: { usage?: unknown };
  choices?: unknown;
}

function finishes(event: StreamEvent): boolean {
  if (event.type === 'response.completed') return true;
  return Array.isArray(event.choices) && event.choices.some((c) => typeof c === 'object' && c !== null && (c as { finish_reason?: unknown }).finish_reason != null);
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
 * or holds back the bytes; it only reads the `data:` lines.
 *
 * `usage` is the last usage seen; `finalUsage` only a usage that came with or after the end of
 * the answer (a finish_reason, response.completed) with no more answer after it. A usage sent
 * early (a prompt-only count, a running count) is not final: a stream cut after it may have
 * cost much more.
 */
export class SseUsageTap {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private skipping = false;
  usage: TokenUsage | undefined;
  finalUsage: TokenUsage | undefined;
  private finished = false;

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.partial = '';
        continue;
      }
      const line = this.partial + piece;
      this.partial = '';
      this.readLine(line);
    }
    if (this.skipping) return;
    this.partial += text.slice(start);
    if (this.partial.length > MAX_LINE_CHARS) {
      this.partial = '';
      this.skipping = true;
      // An unread event may carry more answer.
      this.finalUsage = undefined;
    }
  }

  private readLine(rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (!line.startsWith('data:')) return;
    // Only events that can change the usage are parsed: a usage, an end, or anything after a final usage.
    if (this.finalUsage === undefined && !HAS_USAGE_OBJECT.test(line) && !MAY_FINISH.test(line)) return;
    let event: unknown;
    try {
      event = JSON.parse(line.slice(5));
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const fields = event as StreamEvent;
    if (finishes(fields)) this.finished = true;
    else if (carriesAnswer(fields)) this.finalUsage = undefined;
    const usage = usageFromApi(fields.usage) ?? usageFromApi(fields.response?.usage);
    if (!usage) return;
    this.usage = usage;
    if (this.finished) this.finalUsage = usage;
  }
}

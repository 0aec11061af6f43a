import { StringDecoder } from 'node:string_decoder';
import type { TokenUsage } from '../ledger/types.js';
import { usageFromApi } from '../ledger/usage.js';

/** Longer unfinished lines are skipped: a usage event is small, and the tap must not hoard memory. */
const MAX_LINE_CHARS = 1024 * 1024;
const HAS_USAGE_OBJECT = /"usage"\s*:\s*\{/;

/**
 * Watches the bytes of a server-sent-events stream as they pass and keeps the last usage it saw
 * (chat-completions chunks carry `usage`, Responses events `response.usage`). It never changes
 * or holds back the bytes; it only reads the `data:` lines.
 */
export class SseUsageTap {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private skipping = false;
  usage: TokenUsage | undefined;

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
    }
  }

  private readLine(rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (!line.startsWith('data:') || !HAS_USAGE_OBJECT.test(line)) return;
    let event: unknown;
    try {
      event = JSON.parse(line.slice(5));
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const fields = event as { usage?: unknown; response?: { usage?: unknown } };
    const usage = usageFromApi(fields.usage) ?? usageFromApi(fields.response?.usage);
    if (usage) this.usage = usage;
  }
}

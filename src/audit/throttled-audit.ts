import type { Clock } from '../clock.js';
import type { AuditEntry, AuditSink } from './types.js';

const WINDOW_MS = 60_000;
const THROTTLED = new Set<AuditEntry['kind']>(['denial', 'model_refused']);

interface Window {
  start: number;
  written: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

/**
 * Refusals of what an agent asks for are audited one by one up to a limit per group and minute;
 * past it they are counted and written as one summary row, so a looping agent cannot fill the
 * host's disk with audit rows. Everything else passes straight through.
 */
export class ThrottledAudit implements AuditSink {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly inner: AuditSink,
    private readonly clock: Clock,
    private readonly perMinute = 60,
  ) {}

  append(entry: AuditEntry): void {
    if (!THROTTLED.has(entry.kind)) return this.inner.append(entry);
    const key = entry.group ?? '';
    const now = this.clock();
    let window = this.windows.get(key);
    if (!window || now - window.start >= WINDOW_MS) {
      if (window) this.close(key, window);
      window = { start: now, written: 0, suppressed: 0 };
      this.windows.set(key, window);
    }
    if (window.written < this.perMinute) {
      window.written += 1;
      this.inner.append(entry);
      return;
    }
    window.suppressed += 1;
    if (!window.timer) {
      const open = window;
      open.timer = setTimeout(() => this.close(key, open), WINDOW_MS - (now - open.start));
      open.timer.unref();
    }
  }

  private close(key: string, window: Window): void {
    clearTimeout(window.timer);
    window.timer = undefined;
    if (window.suppressed === 0) return;
    this.inner.append({
      kind: 'denial',
      group: key || undefined,
      actor: 'host',
      detail: { reason: 'refusal_flood', suppressed: window.suppressed, windowStart: window.start, perMinute: this.perMinute },
    });
    window.suppressed = 0;
    if (this.windows.get(key) === window) this.windows.delete(key);
  }
}

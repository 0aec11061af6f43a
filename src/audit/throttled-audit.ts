import type { Clock } from '../clock.js';
import { WindowedState } from '../time/windowed-state.js';
import type { AuditEntry, AuditSink } from './types.js';

/** Which rows are throttled, the count each shares, and the summary row that counts the rest. */
const THROTTLED: Partial<Record<AuditEntry['kind'], { bucket: AuditEntry['kind']; reason: string }>> = {
  denial: { bucket: 'denial', reason: 'refusal_flood' },
  model_refused: { bucket: 'denial', reason: 'refusal_flood' },
  tool_call: { bucket: 'tool_call', reason: 'repeated_calls' },
  task_change: { bucket: 'task_change', reason: 'repeated_task_changes' },
};

/** Kinds written in full past the cap, per group and minute: a new kind of probe is still seen. */
export const MAX_NEW_KINDS_PER_MINUTE = 20;
/** Kinds counted one by one in a summary row; the rest are counted under "other". */
export const MAX_SUMMARY_KINDS = 50;

interface Window {
  group: string | undefined;
  bucket: AuditEntry['kind'];
  reason: string;
  written: number;
  suppressed: number;
  /** What was held back and how often, e.g. "model_not_allowed" or "refused web_fetch". */
  byKind: Map<string, number>;
  /** Kinds already written in full this window: the first of each kind is, up to MAX_NEW_KINDS_PER_MINUTE. */
  seen: Set<string>;
}

/** Host-chosen codes only (an agent's own strings never make a kind, so it cannot mint new ones). */
const CODE = /^[a-z][a-z0-9_]{0,39}$/;

function code(value: unknown): string | undefined {
  return typeof value === 'string' && CODE.test(value) ? value : undefined;
}

/** A row's kind: its reason code (or outcome or action), plus the tool when it names one. */
function kindOf(entry: AuditEntry): string {
  const d = entry.detail;
  const reason = code(d.reason) ?? (d.outcome === 'ok' ? undefined : code(d.outcome)) ?? code(d.action);
  const parts = [reason, code(d.tool)].filter((p) => p !== undefined);
  return parts.length > 0 ? parts.join(' ') : 'other';
}

/**
 * Refusals of what an agent asks for, the host-tool calls it makes and the task changes it causes
 * are audited one by one up to a limit per group and minute (each its own count); past it only
 * the first of each kind (reason code, tool) is written in full, up to MAX_NEW_KINDS_PER_MINUTE,
 * and the rest are counted per kind in one summary row, so a looping agent can neither fill the
 * host's disk or memory with audit rows nor hide a new probe behind a flood of old ones.
 * Everything else passes through.
 */
export class ThrottledAudit implements AuditSink {
  private readonly windows: WindowedState<Window>;

  constructor(
    private readonly inner: AuditSink,
    clock: Clock,
    private readonly perMinute = 60,
  ) {
    const fresh = (): Window => ({ group: undefined, bucket: 'denial', reason: '', written: 0, suppressed: 0, byKind: new Map(), seen: new Set() });
    this.windows = new WindowedState(clock, fresh, (_key, refusals, start) => this.summarise(refusals, start));
  }

  append(entry: AuditEntry): void {
    const throttled = THROTTLED[entry.kind];
    if (!throttled) return this.inner.append(entry);
    const key = `${throttled.bucket}\u0000${entry.group ?? ''}`;
    const window = this.windows.current(key);
    window.group = entry.group;
    window.bucket = throttled.bucket;
    window.reason = throttled.reason;
    const kind = kindOf(entry);
    const firstOfKind = !window.seen.has(kind) && window.seen.size < MAX_NEW_KINDS_PER_MINUTE;
    if (firstOfKind) window.seen.add(kind);
    if (window.written < this.perMinute || firstOfKind) {
      window.written += 1;
      this.inner.append(entry);
      return;
    }
    window.suppressed += 1;
    const counted = window.byKind.has(kind) || window.byKind.size < MAX_SUMMARY_KINDS ? kind : 'other';
    window.byKind.set(counted, (window.byKind.get(counted) ?? 0) + 1);
    this.windows.closeAtEnd(key);
  }

  /** Writes the pending summaries now (at shutdown): no refusal goes unrecorded. */
  flush(): void {
    this.windows.flush();
  }

  private summarise(window: Window, windowStart: number): void {
    if (window.suppressed === 0) return;
    this.inner.append({
      kind: window.bucket,
      group: window.group,
      actor: 'host',
      detail: {
        reason: window.reason,
        suppressed: window.suppressed,
        byKind: Object.fromEntries(window.byKind),
        windowStart,
        perMinute: this.perMinute,
      },
    });
  }
}

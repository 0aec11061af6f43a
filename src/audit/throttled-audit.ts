import type { Clock } from '../clock.js';
import { WindowedState } from '../time/windowed-state.js';
import type { AuditEntry, AuditSink } from './types.js';

const REFUSALS = new Set<AuditEntry['kind']>(['denial', 'model_refused']);

const MAX_KINDS_PER_WINDOW = 500;

interface Refusals {
  group: string | undefined;
  /** Refusals, or performed host-tool calls: each has its own count, so a flood of one cannot hide the other. */
  calls: boolean;
  written: number;
  suppressed: number;
  /** What was refused and how often past the cap, e.g. "model_not_allowed" or "web_fetch 10.0.0.5". */
  byKind: Map<string, number>;
  /** Kinds of refusal already written in full this window: the first of each kind always is. */
  seen: Set<string>;
}

/** A refusal's (or a call's) kind: its reason, plus the tool and target when it has them. */
function refusalKind(entry: AuditEntry): string {
  const d = entry.detail;
  return [d.reason, d.tool, d.url, d.path].filter((v) => typeof v === 'string').join(' ').slice(0, 300);
}

/**
 * Refusals of what an agent asks for, and the host-tool calls it makes, are audited one by one up
 * to a limit per group and minute (each its own count); past it only the first of each kind
 * (reason, tool, target) is written in full and the rest are counted per kind in one summary row,
 * so a looping agent cannot fill the host's disk with audit rows, nor hide a new probe behind a
 * flood of old ones. Everything else passes through.
 */
export class ThrottledAudit implements AuditSink {
  private readonly windows: WindowedState<Refusals>;

  constructor(
    private readonly inner: AuditSink,
    clock: Clock,
    private readonly perMinute = 60,
  ) {
    const fresh = (): Refusals => ({ group: undefined, calls: false, written: 0, suppressed: 0, byKind: new Map(), seen: new Set() });
    this.windows = new WindowedState(clock, fresh, (_key, refusals, start) => this.summarise(refusals, start));
  }

  append(entry: AuditEntry): void {
    const calls = entry.kind === 'tool_call';
    if (!calls && !REFUSALS.has(entry.kind)) return this.inner.append(entry);
    const key = `${calls ? 'calls' : 'refusals'}\u0000${entry.group ?? ''}`;
    const window = this.windows.current(key);
    window.group = entry.group;
    window.calls = calls;
    const kind = refusalKind(entry);
    const firstOfKind = !window.seen.has(kind) && window.seen.size < MAX_KINDS_PER_WINDOW;
    if (firstOfKind) window.seen.add(kind);
    if (window.written < this.perMinute || firstOfKind) {
      window.written += 1;
      this.inner.append(entry);
      return;
    }
    window.suppressed += 1;
    window.byKind.set(kind, (window.byKind.get(kind) ?? 0) + 1);
    this.windows.closeAtEnd(key);
  }

  /** Writes the pending summaries now (at shutdown): no refusal goes unrecorded. */
  flush(): void {
    this.windows.flush();
  }

  private summarise(window: Refusals, windowStart: number): void {
    if (window.suppressed === 0) return;
    this.inner.append({
      kind: window.calls ? 'tool_call' : 'denial',
      group: window.group,
      actor: 'host',
      detail: {
        reason: window.calls ? 'repeated_calls' : 'refusal_flood',
        suppressed: window.suppressed,
        byKind: Object.fromEntries([...window.byKind].slice(0, 50)),
        windowStart,
        perMinute: this.perMinute,
      },
    });
  }
}

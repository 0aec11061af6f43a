import type { Clock } from '../clock.js';
import { hostTimezone } from '../config/groups.js';
import { formatDuration } from '../ledger/messages.js';
import { formatUsd, MICROS_PER_USD } from '../ledger/money.js';
import type { UsageScope, UsageSummary, UsageWindow } from '../ledger/usage-summary.js';
import { BudgetService } from '../services/budget-service.js';
import { withHomeState, type CliOutput } from './home-state.js';

export interface UsageCommandOptions {
  json?: boolean;
  home?: string;
  out?: CliOutput;
  clock?: Clock;
}

/** `enclave usage`: per-group spend for today and this month against the limits; --json for scripts. */
export function runUsage(opts: UsageCommandOptions = {}): Promise<void> {
  // mode 'read': no database yet means nothing was ever spent; an empty in-memory one says so without creating files.
  return withHomeState({ ...opts, mode: 'read' }, ({ config, db, audit, clock, out }) => {
    const summary = new BudgetService({ db, audit, clock, config: () => config, hostTimezone: hostTimezone() }).usage();
    out.write(opts.json ? `${JSON.stringify(usageJson(summary), null, 2)}\n` : renderUsage(summary, { tty: out.isTTY === true, columns: out.columns ?? 80 }));
  });
}

/** The --json document: exact micro-dollars and tokens, times as ISO strings. */
export function usageJson(summary: UsageSummary) {
  const window = (w: UsageWindow) => ({
    window: w.key,
    start: new Date(w.start).toISOString(),
    resetsAt: new Date(w.resetsAt).toISOString(),
    spentMicros: w.micros,
    reservedMicros: w.openMicros,
    limitMicros: w.limitMicros,
    spentUsd: w.micros / MICROS_PER_USD,
    limitUsd: w.limitMicros === null ? null : w.limitMicros / MICROS_PER_USD,
    tokens: w.tokens,
    reservedTokens: w.openTokens,
    limitTokens: w.limitTokens,
  });
  const scope = (s: UsageScope) => ({ timezone: s.timezone, configured: s.configured, day: window(s.day), month: window(s.month) });
  return {
    at: new Date(summary.at).toISOString(),
    groups: summary.groups.map((g) => ({ group: g.name, ...scope(g) })),
    global: scope(summary.global),
  };
}

export interface RenderOptions {
  /** Unicode blocks and colour on a terminal; plain ASCII otherwise. */
  tty: boolean;
  columns: number;
}

interface ChartRow {
  label: string;
  key: string;
  value: number;
  /** What a full bar stands for: the limit, or for a group without one the largest group spend; null draws no bar. */
  scale: number | null;
  limited: boolean;
  text: string;
}

const FIXED_WIDTH = 70;
const PARTIAL_BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const RESET = '\x1b[0m';

/** The terminal chart: one block per group (and one for all groups), a bar per window. */
export function renderUsage(summary: UsageSummary, opts: RenderOptions): string {
  const barWidth = opts.tty ? Math.max(10, Math.min(40, opts.columns - FIXED_WIDTH)) : 20;
  const scopes = [...summary.groups, summary.global];
  // A group with no limit is drawn against the biggest group spend of the window, so groups still compare.
  const largest = (pick: (s: UsageScope) => UsageWindow) => Math.max(1, ...summary.groups.map((s) => pick(s).micros));
  const scale = { day: largest((s) => s.day), month: largest((s) => s.month) };
  const noScale = { day: null, month: null };
  const lines = ['Spend per group: today and this month, each in the group\'s own time zone', ''];
  if (summary.groups.length === 0) lines.push('(no groups configured)', '');
  for (const s of scopes) {
    const title = s === summary.global ? `all groups (${s.timezone})` : `${s.name} (${s.timezone}${s.configured ? '' : ', no longer configured'})`;
    lines.push(opts.tty ? `\x1b[1m${title}${RESET}` : title);
    for (const row of chartRows(s, summary.at, s === summary.global ? noScale : scale)) lines.push(chartLine(row, barWidth, opts.tty));
  }
  return `${lines.join('\n')}\n`;
}

function chartRows(s: UsageScope, now: number, scale: { day: number | null; month: number | null }): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const period of ['day', 'month'] as const) {
    const w = s[period];
    const label = period === 'day' ? 'today' : 'month';
    const resets = `resets in ${formatDuration(w.resetsAt - now)}`;
    const inFlight = w.openMicros > 0 ? `, ${formatUsd(w.openMicros)} in flight` : '';
    const limit = w.limitMicros;
    const amount = limit === null ? `${formatUsd(w.micros)} (no limit)` : `${formatUsd(w.micros)} of ${formatUsd(limit)}`;
    rows.push({ label, key: w.key, value: w.micros, scale: limit ?? scale[period], limited: limit !== null, text: `${amount.padEnd(18)} ${percent(w.micros, limit)}  ${resets}${inFlight}` });
    if (w.limitTokens !== null) {
      const tokens = `${w.tokens.toLocaleString('en-US')} of ${w.limitTokens.toLocaleString('en-US')} tok`;
      rows.push({ label: 'tokens', key: '', value: w.tokens, scale: w.limitTokens, limited: true, text: `${tokens.padEnd(18)} ${percent(w.tokens, w.limitTokens)}` });
    }
  }
  return rows;
}

function chartLine(row: ChartRow, width: number, tty: boolean): string {
  const bar = row.scale === null ? ' '.repeat(tty ? width : width + 2) : drawBar(row.scale === 0 ? (row.value > 0 ? 1 : 0) : Math.min(1, row.value / row.scale), width, tty, row.limited);
  return `  ${row.label.padEnd(7)}${row.key.padEnd(11)} ${bar}  ${row.text}`;
}

function drawBar(fraction: number, width: number, tty: boolean, limited: boolean): string {
  return tty ? unicodeBar(fraction, width, limited) : plainBar(fraction, width);
}

function plainBar(fraction: number, width: number): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function unicodeBar(fraction: number, width: number, limited: boolean): string {
  const eighths = Math.round(fraction * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = PARTIAL_BLOCKS[eighths % 8]!;
  const bar = '█'.repeat(full) + partial + '░'.repeat(width - full - (partial ? 1 : 0));
  const colour = !limited ? '\x1b[36m' : fraction >= 1 ? '\x1b[31m' : fraction >= 0.8 ? '\x1b[33m' : '\x1b[32m';
  return `${colour}${bar}${RESET}`;
}

function percent(spent: number, limit: number | null): string {
  if (limit === null || limit === 0) return '    ';
  return `${Math.floor((spent * 100) / limit)}%`.padStart(4);
}

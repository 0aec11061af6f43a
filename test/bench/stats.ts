export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function fmtMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

export function fmtMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtRatio(value: number, floor: number): string {
  return `${(value / floor).toFixed(2)}×`;
}

/** One printed line: what, the absolute figure, and its floor / ratio / notes. */
export type Row = [string, string, string];

/** One target of issue 13, shown in the summary table at the end with its figure and met or missed. */
export interface TargetCheck {
  name: string;
  /** The figure compared, as printed (a ratio, a difference, a count). */
  value: string;
  target: string;
  met: boolean;
}

/** One block of bench output. */
export interface BenchSection {
  title: string;
  rows: Row[];
  targets?: TargetCheck[];
}

/** What every bench module gets from run.ts. */
export interface BenchOptions {
  /** `--quick` or BENCH_QUICK=1: smaller counts and scale, for quick iterations. */
  quick: boolean;
}

export function printRows(rows: readonly Row[], out: (line: string) => void): void {
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  const valueWidth = Math.max(10, ...rows.map((r) => r[1].length));
  for (const [name, value, note] of rows) out(`  ${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`.trimEnd());
}

export function printTargets(targets: readonly TargetCheck[], out: (line: string) => void): void {
  const w = (pick: (t: TargetCheck) => string, title: string) => Math.max(title.length, ...targets.map((t) => pick(t).length));
  const [nw, vw, tw] = [w((t) => t.name, 'target'), w((t) => t.value, 'figure'), w((t) => t.target, 'goal')];
  out(`  ${'target'.padEnd(nw)}  ${'figure'.padStart(vw)}  ${'goal'.padEnd(tw)}  result`);
  for (const t of targets) out(`  ${t.name.padEnd(nw)}  ${t.value.padStart(vw)}  ${t.target.padEnd(tw)}  ${t.met ? 'met' : 'MISSED'}`);
}

/** Samples the host's RSS every `everyMs` until stopped; returns the largest seen. */
export function rssPeak(everyMs = 100): { stop: () => number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/**
 * npm run bench [-- --quick] [-- --only=name,name]: every figure printed as an absolute value and as
 * a ratio to a floor measured in the same run, then a summary of the targets met or missed.
 * Nothing is asserted: the machines are shared and noisy, which is why every figure has its floor.
 */
import { benchContainers } from './container-bench.js';
import { benchDashboard } from './dashboard-bench.js';
import { benchFirstText } from './first-text-bench.js';
import { benchProxy } from './proxy-bench.js';
import { benchScale } from './scale-bench.js';
import { printRows, printTargets, type BenchOptions, type BenchSection, type TargetCheck } from './stats.js';

/** Each bench module: one line here. */
const BENCHES: [string, (opts: BenchOptions) => Promise<BenchSection>][] = [
  ['first-text', benchFirstText],
  ['containers', benchContainers],
  ['proxy', benchProxy],
  ['dashboard', benchDashboard],
  ['scale', benchScale],
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opts: BenchOptions = { quick: args.includes('--quick') || process.env.BENCH_QUICK === '1' };
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Enclave bench${opts.quick ? ' (quick)' : ''}`);
  const targets: TargetCheck[] = [];
  for (const [name, run] of BENCHES) {
    if (only && !only.includes(name)) continue;
    const started = performance.now();
    const section = await run(opts);
    out(`\n${section.title} [${((performance.now() - started) / 1000).toFixed(0)} s]`);
    printRows(section.rows, out);
    targets.push(...(section.targets ?? []));
  }
  out('\nTargets (issue 13)');
  printTargets(targets, out);
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});

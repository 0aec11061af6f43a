/**
 * npm run bench [-- --quick] [-- --only=name,name]: every figure printed as an absolute value and as
 * a ratio to a floor measured in the same run, then a summary of the targets met or missed.
 * Nothing is asserted: the machines are shared and noisy, which is why every figure has its floor.
 * Each module runs in a fresh child process, so one's memory and warm code do not colour the next.
 */
import { execFileSync } from 'node:child_process';
import { benchContainers } from './container-bench.js';
import { benchDashboard } from './dashboard-bench.js';
import { benchFirstText } from './first-text-bench.js';
import { benchMedia } from './media-bench.js';
import { benchProxy } from './proxy-bench.js';
import { benchScale } from './scale-bench.js';
import { benchTeams } from './team-bench.js';
import { printRows, printTargets, type BenchOptions, type BenchSection, type TargetCheck } from './stats.js';

/** Each bench module: one line here. */
const BENCHES: [string, (opts: BenchOptions) => Promise<BenchSection>][] = [
  ['first-text', benchFirstText],
  ['containers', benchContainers],
  ['proxy', benchProxy],
  ['dashboard', benchDashboard],
  ['scale', benchScale],
  ['media', benchMedia],
  ['team', benchTeams],
];

const SECTION_PREFIX = 'BENCH-SECTION ';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opts: BenchOptions = { quick: args.includes('--quick') || process.env.BENCH_QUICK === '1' };
  const child = args.find((a) => a.startsWith('--section='))?.slice('--section='.length);
  if (child) {
    const section = await BENCHES.find(([name]) => name === child)![1](opts);
    // A handle some library left open must not keep the child alive once its figures are out.
    process.stdout.write(`${SECTION_PREFIX}${JSON.stringify(section)}\n`, () => process.exit(0));
    return;
  }
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Enclave bench${opts.quick ? ' (quick)' : ''}`);
  const targets: TargetCheck[] = [];
  for (const [name] of BENCHES) {
    if (only && !only.includes(name)) continue;
    const started = performance.now();
    const output = execFileSync(process.execPath, ['--expose-gc', ...process.execArgv, process.argv[1]!, `--section=${name}`, ...(opts.quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const line = output.split('\n').find((l) => l.startsWith(SECTION_PREFIX));
    if (!line) throw new Error(`bench ${name} printed no result`);
    const section = JSON.parse(line.slice(SECTION_PREFIX.length)) as BenchSection;
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

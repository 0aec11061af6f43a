/**
 * npm run bench: one run against a fake model with a fixed latency. Prints percentiles and
 * ratios; nothing here is asserted (the machines are shared and noisy).
 */
import Docker from 'dockerode';
import { rmSync } from 'node:fs';
import { Enclave } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { FakeModel } from '../fakes/fake-model.js';
import { makeHome } from '../helpers/harness.js';
import { benchDashboard } from './dashboard-bench.js';
import { benchProxy } from './proxy-bench.js';
import { fmtMb, fmtMs, percentile } from './stats.js';

const MODEL_LATENCY_MS = Number(process.env.BENCH_MODEL_LATENCY_MS ?? 50);
const WARM_TURNS = Number(process.env.BENCH_WARM_TURNS ?? 40);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 8);
const WARM_TARGET_MS = 15;
const COLD_TARGET_MS = 400;

async function main(): Promise<void> {
  const model = await FakeModel.start();
  model.fallback = () => ({ content: 'ok', delayMs: MODEL_LATENCY_MS });
  const home = makeHome();
  const env = { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: model.baseUrl };
  process.stdout.write(`Enclave bench: fake model latency ${MODEL_LATENCY_MS} ms, ${WARM_TURNS} warm turns, ${COLD_STARTS} cold starts\n`);
  const app = await Enclave.start({ home, env, log: silentLogger(), onProgress: (l) => process.stdout.write(`  ${l}\n`) });
  const arrivals: number[] = [];
  const originalFallback = model.fallback;
  model.fallback = (req) => {
    arrivals.push(performance.now());
    return originalFallback(req);
  };

  const say = async (text: string) => {
    const started = performance.now();
    const receipt = await app.local.submit('main', text);
    const outcome = await receipt.settled;
    if (outcome !== 'answered') throw new Error(`bench turn was not answered: ${outcome}`);
    return { started, ended: performance.now() };
  };

  try {
    const cold: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      await app.containers.stop('main');
      const before = arrivals.length;
      const { started } = await say(`cold ${i}`);
      cold.push(arrivals[before]! - started);
    }

    await say('warm-up');
    const overhead: number[] = [];
    for (let i = 0; i < WARM_TURNS; i++) {
      const { started, ended } = await say(`warm ${i}`);
      overhead.push(ended - started - MODEL_LATENCY_MS);
      // keep history short so every turn does the same work
      if (i % 10 === 9) await app.local.submit('main', '/reset').then((r) => r.settled);
    }

    const id = app.containers.state('main').id!;
    const stats = (await new Docker().getContainer(id).stats({ stream: false })) as { memory_stats: { usage?: number; stats?: { cache?: number } } };
    const containerMem = (stats.memory_stats.usage ?? 0) - (stats.memory_stats.stats?.cache ?? 0);
    const rss = process.memoryUsage().rss;

    const rows: [string, string, string][] = [
      ['host overhead per warm turn p50', fmtMs(percentile(overhead, 50)), `target <= ${WARM_TARGET_MS} ms (ratio ${(percentile(overhead, 50) / WARM_TARGET_MS).toFixed(2)})`],
      ['host overhead per warm turn p95', fmtMs(percentile(overhead, 95)), ''],
      ['cold start to first model call p50', fmtMs(percentile(cold, 50)), `target <= ${COLD_TARGET_MS} ms (ratio ${(percentile(cold, 50) / COLD_TARGET_MS).toFixed(2)})`],
      ['cold start to first model call p95', fmtMs(percentile(cold, 95)), ''],
      ['agent container memory', fmtMb(containerMem), ''],
      ['host RSS', fmtMb(rss), ''],
    ];
    rows.push(...(await benchProxy()).rows);
    rows.push(...(await benchDashboard()).rows);
    const width = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write('\n');
    for (const [name, value, note] of rows) process.stdout.write(`${name.padEnd(width)}  ${value.padStart(10)}  ${note}\n`);
  } finally {
    await app.stop();
    await model.close();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.message}\n`);
  process.exit(1);
});

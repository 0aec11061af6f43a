/**
 * Part of `npm run bench`: host overhead per warm turn (in-process runtime, no Docker)
 * without the dashboard, then with it and three browsers' live streams open. Prints; asserts nothing.
 */
import { rmSync } from 'node:fs';
import { Enclave } from '../../src/app.js';
import { silentLogger } from '../../src/logger.js';
import { FakeModel } from '../fakes/fake-model.js';
import { makeHome } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { fmtMs, percentile, type BenchSection } from './stats.js';

const MODEL_LATENCY_MS = 20;
const TURNS = Number(process.env.BENCH_WARM_TURNS ?? 60);
const STREAMS = 3;

async function overheads(dashboard: boolean): Promise<number[]> {
  const model = await FakeModel.start();
  model.fallback = () => ({ content: 'ok', delayMs: MODEL_LATENCY_MS });
  const home = makeHome({ enclaveYaml: dashboard ? 'dashboard: { enabled: true, port: 0 }\n' : '' });
  const env = { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-bench-dashboard', OPENAI_BASE_URL: model.baseUrl };
  const app = await Enclave.start({ home, env, log: silentLogger(), runtime: new InProcessRuntime() });
  const streams = new AbortController();
  try {
    if (dashboard) await openStreams(app, streams.signal);
    const say = async (text: string) => {
      const started = performance.now();
      const outcome = await (await app.local.submit('main', text)).settled;
      if (outcome !== 'answered') throw new Error(`bench turn was not answered: ${outcome}`);
      return performance.now() - started - MODEL_LATENCY_MS;
    };
    await say('warm-up');
    const out: number[] = [];
    for (let i = 0; i < TURNS; i++) {
      out.push(await say(`warm ${i}`));
      if (i % 10 === 9) await (await app.local.submit('main', '/reset')).settled;
    }
    return out;
  } finally {
    streams.abort();
    await app.stop();
    await model.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** Logs in like a browser and keeps STREAMS live streams reading. */
async function openStreams(app: Enclave, signal: AbortSignal): Promise<void> {
  const dashboard = app.dashboard!;
  const origin = dashboard.origin.origin;
  const token = dashboard.loginLink().split('#')[1];
  const login = await fetch(`${origin}/login`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  for (let i = 0; i < STREAMS; i++) {
    const res = await fetch(`${origin}/api/events`, { headers: { cookie }, signal });
    void (async () => {
      for await (const _chunk of res.body!) if (signal.aborted) break;
    })().catch(() => undefined);
  }
}

/** Host overhead per warm turn without and with the dashboard and its live streams; the first is the floor. */
export async function benchDashboard(): Promise<BenchSection> {
  const without = await overheads(false);
  const withDashboard = await overheads(true);
  const ratio = (p: number) => `floor ${fmtMs(percentile(without, p))} without the dashboard (ratio ${(percentile(withDashboard, p) / percentile(without, p)).toFixed(2)})`;
  return {
    title: `Dashboard (in-process runtime, ${TURNS} warm turns without, then with the dashboard and ${STREAMS} live streams)`,
    rows: [
      [`warm turn overhead p50, dashboard + ${STREAMS} live streams`, fmtMs(percentile(withDashboard, 50)), ratio(50)],
      [`warm turn overhead p95, dashboard + ${STREAMS} live streams`, fmtMs(percentile(withDashboard, 95)), ratio(95)],
    ],
  };
}

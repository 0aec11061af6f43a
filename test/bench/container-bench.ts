/**
 * Warm turn host overhead and cold start, each against its floor measured in the same run by a
 * trivial container of the same image (floor-container.ts). Real Docker; the model answers at once.
 */
import { DockerRuntime } from '../../src/container/docker-runtime.js';
import { runFloorContainer } from './floor-container.js';
import { directModelCall, localTurn, startBenchHost } from './bench-host.js';
import { INSTANT, startPacedModel } from './paced-model.js';
import { fmtMs, fmtRatio, percentile, type BenchOptions, type BenchSection } from './stats.js';

const WARM_TARGET = 3;
const COLD_TARGET = 1.3;

export async function benchContainers(opts: BenchOptions): Promise<BenchSection> {
  const warmTurns = Number(process.env.BENCH_WARM_TURNS ?? (opts.quick ? 20 : 60));
  const coldStarts = Number(process.env.BENCH_COLD_STARTS ?? (opts.quick ? 3 : 8));
  const model = await startPacedModel(INSTANT);
  const runtime = await DockerRuntime.connect();
  const image = await runtime.prepare();
  const host = await startBenchHost(model, { runtime });
  const { app } = host;
  const arrivals: number[] = [];
  const answer = model.fallback;
  model.fallback = (req) => {
    arrivals.push(performance.now());
    return answer(req);
  };
  try {
    await localTurn(app, 'main', 'first turn: prepares the memory folder and its disk');
    const cold: number[] = [];
    const coldFloor: number[] = [];
    for (let i = 0; i < coldStarts; i++) {
      coldFloor.push((await runFloorContainer(runtime.docker, image, 1)).coldMs);
      await app.containers.stop('main');
      const before = arrivals.length;
      const started = performance.now();
      await localTurn(app, 'main', `cold ${i}`);
      cold.push(arrivals[before]! - started);
    }

    const warmFloor = (await runFloorContainer(runtime.docker, image, warmTurns + 1)).roundTripsMs;
    const modelOwn = await directModelCall(model, 30);
    await localTurn(app, 'main', 'warm-up');
    const turns: number[] = [];
    for (let i = 0; i < warmTurns; i++) {
      turns.push(await localTurn(app, 'main', `warm ${i}`));
      // keep history short so every turn does the same work
      if (i % 10 === 9) await app.local.submit('main', '/reset').then((r) => r.settled);
    }
    const overhead = turns.map((t) => t - modelOwn);
    const [w50, wf50, c50, cf50] = [percentile(overhead, 50), percentile(warmFloor, 50), percentile(cold, 50), percentile(coldFloor, 50)];
    return {
      title: `Containers (real Docker; ${warmTurns} warm turns, ${coldStarts} cold starts; model answers at once, its own ${fmtMs(modelOwn)} subtracted)`,
      rows: [
        ['warm turn host overhead p50', fmtMs(w50), `floor ${fmtMs(wf50)} (socket round trip into a running container + SQLite WAL insert), ratio ${fmtRatio(w50, wf50)}`],
        ['warm turn host overhead p95', fmtMs(percentile(overhead, 95)), `floor p95 ${fmtMs(percentile(warmFloor, 95))}, ratio ${fmtRatio(percentile(overhead, 95), percentile(warmFloor, 95))}`],
        ['cold start to first model call p50', fmtMs(c50), `floor ${fmtMs(cf50)} (create + start + first socket byte, trivial container), ratio ${fmtRatio(c50, cf50)}`],
        ['cold start to first model call p95', fmtMs(percentile(cold, 95)), `floor p95 ${fmtMs(percentile(coldFloor, 95))}`],
      ],
      targets: [
        { name: 'warm turn overhead p50 / floor', value: fmtRatio(w50, wf50), target: `<= ${WARM_TARGET}×`, met: w50 / wf50 <= WARM_TARGET },
        { name: 'cold start p50 / floor', value: fmtRatio(c50, cf50), target: `<= ${COLD_TARGET}×`, met: c50 / cf50 <= COLD_TARGET },
      ],
    };
  } finally {
    await host.stop();
    await model.close();
  }
}

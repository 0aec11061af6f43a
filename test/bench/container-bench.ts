/**
 * Warm turn host overhead and cold start, each against its floor measured in the same run by a
 * trivial container of the same image (floor-container.ts). Real Docker; the model answers at once.
 */
import { DockerRuntime } from '../../src/container/docker-runtime.js';
import { startFloorContainer } from './floor-container.js';
import { localTurn, startBenchHost } from './bench-host.js';
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
      const floor = await startFloorContainer(runtime.docker, image);
      coldFloor.push(floor.coldMs);
      await floor.stop();
      await app.containers.stop('main');
      const before = arrivals.length;
      const started = performance.now();
      await localTurn(app, 'main', `cold ${i}`);
      cold.push(arrivals[before]! - started);
    }

    // Turns and floor round trips alternate, so drift on a shared machine hits both alike.
    const floor = await startFloorContainer(runtime.docker, image);
    const warmFloor: number[] = [];
    const overhead: number[] = [];
    try {
      await localTurn(app, 'main', 'warm-up');
      for (let i = 0; i < warmTurns; i++) {
        warmFloor.push(await floor.roundTrip());
        overhead.push(await localTurn(app, 'main', `warm ${i}`));
        // keep history short so every turn does the same work
        if (i % 10 === 9) await app.local.submit('main', '/reset').then((r) => r.settled);
      }
    } finally {
      await floor.stop();
    }
    const [w50, wf50, c50, cf50] = [percentile(overhead, 50), percentile(warmFloor, 50), percentile(cold, 50), percentile(coldFloor, 50)];
    return {
      title: `Containers (real Docker; ${warmTurns} warm turns, ${coldStarts} cold starts; the fake model answers at once, so a turn is all overhead)`,
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

/**
 * Many groups at once on real containers: every registered group sends its messages at the same
 * moment; messages per second end to end, p50/p95 latency, every message counted (the model must
 * see each one as new exactly once, and each must settle answered), host RSS and what each extra
 * warm container costs it; then whether the fair queue keeps a quiet group fast while one floods.
 */
import Docker from 'dockerode';
import type { Enclave } from '../../src/app.js';
import type { RecordedRequest } from '../fakes/fake-model.js';
import { localTurn, startBenchHost } from './bench-host.js';
import { pacedReply, startPacedModel, type Pace } from './paced-model.js';
import { fmtMb, fmtMs, fmtRatio, percentile, rssPeak, type BenchOptions, type BenchSection, type Row, type TargetCheck } from './stats.js';

const PACE: Pace = { ttftMs: Number(process.env.BENCH_SCALE_TTFT_MS ?? 100), tokensPerSecond: Infinity, answerTokens: 5 };
const FAIRNESS_TARGET = 2;
const MARKER = /\bm-(g\d+)-(\d+)\b/g;
const MB = 1024 * 1024;

/** What the model was asked as new in a request: user messages after the last answer. */
function newMarkers(req: RecordedRequest): string[] {
  const messages = (req.body.messages as { role: string; content: unknown }[] | undefined) ?? [];
  const lastAnswer = messages.map((m) => m.role).lastIndexOf('assistant');
  return messages.slice(lastAnswer + 1).filter((m) => m.role === 'user').flatMap((m) => [...String(m.content).matchAll(MARKER)].map((x) => x[0]));
}

interface Sent {
  marker: string;
  at: number;
  settled: Promise<{ outcome: string; latency: number }>;
}

/** RSS after a full GC (the child runs with --expose-gc), so garbage does not pass for growth. */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** One warm agent container's own memory (its cgroup, page cache left out), as Docker reports it. */
async function containerMemory(app: Enclave, group: string): Promise<string> {
  const id = app.containers.state(group).id;
  if (!id) return 'n/a (not running)';
  const stats = (await new Docker().getContainer(id).stats({ stream: false })) as { memory_stats: { usage?: number; stats?: { inactive_file?: number; cache?: number } } };
  const m = stats.memory_stats;
  return fmtMb((m.usage ?? 0) - (m.stats?.inactive_file ?? m.stats?.cache ?? 0));
}

function send(app: Enclave, group: string, n: number): Sent {
  const marker = `m-${group}-${n}`;
  const at = performance.now();
  const settled = app.local.submit(group, `message ${marker}`).then(
    (r) => r.settled.then((outcome) => ({ outcome, latency: performance.now() - at })),
    (err: Error) => ({ outcome: `refused: ${err.message}`, latency: performance.now() - at }),
  );
  return { marker, at, settled };
}

async function runScale(groups: number, maxContainers: number, perGroup: number, fairness: boolean): Promise<{ rows: Row[]; targets: TargetCheck[] }> {
  const model = await startPacedModel(PACE);
  const seen = new Map<string, number>();
  model.fallback = (req) => {
    for (const m of newMarkers(req)) seen.set(m, (seen.get(m) ?? 0) + 1);
    return pacedReply(PACE, req);
  };
  const names = Array.from({ length: groups }, (_, i) => `g${i}`);
  const host = await startBenchHost(model, {
    // diskMb 0: no loop-mounted disk per group; the bench measures the queue and containers, not mkfs.
    enclaveYaml: `maxContainers: ${maxContainers}\ncontainer: { diskMb: 0 }\n`,
    groups: Object.fromEntries(names.map((g) => [g, `chats: [local:${g}]\nrequireTrigger: false\nmodel: fake-model\n`])),
  });
  const { app } = host;
  const delivered = new Map<string, number>();
  app.local.subscribe((e) => {
    if (e.kind === 'message') delivered.set(`${e.message.chatId} ${e.message.text}`, (delivered.get(`${e.message.chatId} ${e.message.text}`) ?? 0) + 1);
  });
  const label = `${groups} groups, maxContainers ${maxContainers}`;
  let next = 0;
  /** Every group sends perGroup messages at once; each message counted, timed and checked. */
  const burst = async () => {
    const sent: Sent[] = [];
    for (let k = 0; k < perGroup; k++) for (const g of names) sent.push(send(app, g, next++));
    const results = await Promise.all(sent.map((s) => s.settled));
    const elapsed = Math.max(...results.map((r, i) => sent[i]!.at + r.latency)) - sent[0]!.at;
    const unanswered = results.filter((r) => r.outcome !== 'answered').length;
    const neverSeen = sent.filter((s) => !seen.has(s.marker)).length;
    const seenTwice = sent.filter((s) => (seen.get(s.marker) ?? 0) > 1).length;
    return { sent: sent.length, elapsed, latencies: results.map((r) => r.latency), unanswered, neverSeen, seenTwice, lost: Math.max(unanswered, neverSeen) };
  };
  try {
    const rssStart = settledRss();
    const peak = rssPeak();
    const cold = await burst();
    const warmCount = names.filter((g) => app.containers.state(g).state === 'running').length;
    const rssWarm = settledRss();
    const warm = await burst();
    const rssPeakBytes = peak.stop();
    const repliesTwice = [...delivered.values()].filter((n) => n > 1).length;
    const lost = cold.lost + warm.lost;
    const duplicated = cold.seenTwice + warm.seenTwice + repliesTwice;
    const rssLimit = 150 * MB + groups * MB;
    const containerMb = await containerMemory(app, names[0]!);
    const burstRows = (name: string, b: Awaited<ReturnType<typeof burst>>): Row[] => [
      [`${label}, ${name}: messages/s`, (b.sent / (b.elapsed / 1000)).toFixed(1), `${b.sent} messages (${perGroup} per group, all at once) in ${(b.elapsed / 1000).toFixed(1)} s`],
      [`${label}, ${name}: latency p50`, fmtMs(percentile(b.latencies, 50)), `p95 ${fmtMs(percentile(b.latencies, 95))}; floor: the model alone ${fmtMs(PACE.ttftMs)} a turn`],
    ];
    const rows: Row[] = [
      ...burstRows('all cold', cold),
      ...burstRows('all warm', warm),
      [`${label}: lost / duplicated`, `${lost} / ${duplicated}`, `of ${cold.sent + warm.sent}: not answered ${cold.unanswered + warm.unanswered}, never reached the model ${cold.neverSeen + warm.neverSeen}, seen as new twice ${cold.seenTwice + warm.seenTwice}, a reply delivered twice ${repliesTwice}`],
      [`${label}: host RSS peak`, fmtMb(rssPeakBytes), `target ${fmtMb(rssLimit)} (150 MB + 1 MB per group); ${fmtMb(rssStart)} after start, all containers stopped`],
      [`${label}: host RSS per warm container`, fmtMb((rssWarm - rssStart) / Math.max(1, warmCount)), `${warmCount} warm containers after the first burst (after GC); each container itself uses ${containerMb}`],
    ];
    const targets: TargetCheck[] =
      groups >= 200
        ? [
            { name: `${label}: lost + duplicated`, value: String(lost + duplicated), target: '0', met: lost + duplicated === 0 },
            { name: `${label}: host RSS peak`, value: fmtMb(rssPeakBytes), target: `<= ${fmtMb(rssLimit)}`, met: rssPeakBytes <= rssLimit },
          ]
        : [];
    if (fairness) {
      const f = await floodFairness(app, names[0]!, names[1]!);
      rows.push(
        [`${label}: quiet group p95, idle`, fmtMs(f.idle), `${f.turns} turns one after another, nothing else running`],
        [`${label}: quiet group p95, under flood`, fmtMs(f.flood), `while ${names[0]} sent ${f.floodMessages} messages (${f.floodLost} not answered); ratio ${fmtRatio(f.flood, f.idle)}`],
      );
      targets.push({ name: `${label}: quiet p95 under flood / idle`, value: fmtRatio(f.flood, f.idle), target: `<= ${FAIRNESS_TARGET}×`, met: f.flood / f.idle <= FAIRNESS_TARGET && f.floodLost === 0 });
    }
    return { rows, targets };
  } finally {
    await host.stop();
    await model.close();
  }
}

/** The quiet group's turn latency p95 alone, then while the noisy group sends a message every few ms. */
async function floodFairness(app: Enclave, noisy: string, quiet: string) {
  const turns = 20;
  const quietTurns = async () => {
    const out: number[] = [];
    for (let i = 0; i < turns; i++) out.push(await localTurn(app, quiet, `quiet ${i}`));
    return percentile(out, 95);
  };
  const idle = await quietTurns();
  const flood: Sent[] = [];
  let flooding = true;
  const floodLoop = (async () => {
    for (let n = 0; flooding; n++) {
      flood.push(send(app, noisy, 1000 + n));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const underFlood = await quietTurns();
  flooding = false;
  await floodLoop;
  const floodResults = await Promise.all(flood.map((s) => s.settled));
  return { turns, idle, flood: underFlood, floodMessages: flood.length, floodLost: floodResults.filter((r) => r.outcome !== 'answered').length };
}

export async function benchScale(opts: BenchOptions): Promise<BenchSection> {
  const configs: [number, number][] = opts.quick ? [[20, 4]] : [[50, 4], [50, 16], [200, 4], [200, 16]];
  const perGroup = Number(process.env.BENCH_SCALE_MESSAGES ?? 2);
  const rows: Row[] = [];
  const targets: TargetCheck[] = [];
  for (const [groups, max] of configs) {
    const r = await runScale(groups, max, perGroup, opts.quick || (groups === 200 && max === 4));
    rows.push(...r.rows);
    targets.push(...r.targets);
  }
  return { title: `Scale (real containers; model answers after ${PACE.ttftMs} ms; every group sends at once)`, rows, targets };
}

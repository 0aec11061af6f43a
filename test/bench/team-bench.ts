/**
 * Host overhead of one ask_agent round trip between two warm agents, as the asking agent sees it:
 * from the model's answer that calls ask_agent to the asking agent's next model call, minus the
 * asked agent's model time (the fake answers at once; its own time is measured and subtracted).
 * Floors from the same run, alternated with the asks: one plain warm turn's host overhead (an ask
 * is one more turn, of the asked agent), and one cheap host tool's round trip (board_read).
 */
import { chatMessagesOf, toolCall } from '../helpers/model-messages.js';
import type { RecordedRequest, ScriptedReply } from '../fakes/fake-model.js';
import { directModelCall, localTurn, startBenchHost } from './bench-host.js';
import { INSTANT, startPacedModel } from './paced-model.js';
import { fmtMs, fmtRatio, percentile, type BenchOptions, type BenchSection } from './stats.js';

const ENCLAVE = 'channels:\n  local:\n    streaming: { mode: off }\nteams:\n  bench: { members: [main, worker], maxDepth: 2, maxChainUsd: 5 }\nprices:\n  main-model: { input: 1, output: 2 }\n  worker-model: { input: 1, output: 2 }\n  fake-model: { input: 1, output: 2 }\n';
const GROUPS = {
  main: 'chats: [local:main]\nrequireTrigger: false\nmodel: main-model\nteam:\n  handOffTo: [worker]\n  board: { read: [bench/*] }\n',
  worker: 'chats: []\nmodel: worker-model\n',
};

type Mode = 'plain' | 'tool' | 'ask';

export async function benchTeams(opts: BenchOptions): Promise<BenchSection> {
  const rounds = Number(process.env.BENCH_TEAM_ASKS ?? (opts.quick ? 15 : 50));
  const model = await startPacedModel(INSTANT);
  const instant = model.fallback;
  let mode: Mode = 'plain';
  /** Arrival times at the fake model in the current turn: main's calls, and the worker's. */
  let mainCalls: number[] = [];
  let workerCalls = 0;
  model.fallback = (req: RecordedRequest): ScriptedReply => {
    const now = performance.now();
    if (req.body.model === 'worker-model') {
      workerCalls++;
      return instant(req);
    }
    if (req.body.model !== 'main-model') return instant(req);
    mainCalls.push(now);
    const afterTool = chatMessagesOf(req).at(-1)?.role === 'tool';
    if (mode === 'plain' || afterTool) return instant(req);
    return { toolCalls: [mode === 'ask' ? toolCall('ask_agent', { to: 'worker', question: 'Quick one: yes or no?' }) : toolCall('board_read', { key: 'bench/' })] };
  };
  const host = await startBenchHost(model, { enclaveYaml: ENCLAVE, groups: GROUPS });
  const { app } = host;

  /** One turn of main in this mode; the gap between its two model calls (the tool's round trip), or the whole turn for a plain one. */
  const turn = async (m: Mode, text: string): Promise<number> => {
    mode = m;
    mainCalls = [];
    workerCalls = 0;
    const whole = await localTurn(app, 'main', text);
    if (m === 'plain') return whole;
    if (mainCalls.length !== 2) throw new Error(`a ${m} turn made ${mainCalls.length} model calls of main, not 2`);
    if (m === 'ask' && workerCalls !== 1) throw new Error(`an ask made ${workerCalls} model calls of the worker, not 1`);
    return mainCalls[1]! - mainCalls[0]!;
  };

  try {
    // Both containers warm before anything is measured.
    await turn('ask', 'warm-up ask');
    await turn('tool', 'warm-up tool');
    await turn('plain', 'warm-up plain');
    const asks: number[] = [];
    const plain: number[] = [];
    const tools: number[] = [];
    for (let i = 0; i < rounds; i++) {
      plain.push(await turn('plain', `plain ${i}`));
      tools.push(await turn('tool', `tool ${i}`));
      asks.push(await turn('ask', `ask ${i}`));
      // keep history short so every turn does the same work
      if (i % 5 === 4) await app.local.submit('main', '/reset').then((r) => r.settled);
    }
    // The asked agent's model time: the fake's own answer, called directly.
    const modelMs = await directModelCall(model, 20);
    const overhead = asks.map((ms) => ms - modelMs);
    const [a50, a95, p50, t50] = [percentile(overhead, 50), percentile(overhead, 95), percentile(plain, 50), percentile(tools, 50)];
    const done = app.teams.store.list({ all: true, limit: 10_000 }).filter((t) => t.kind === 'ask' && t.state === 'done').length;
    return {
      title: `Agent teams (real Docker, two warm agents; ${rounds} asks, each alternated with a plain turn and a board_read; the fake model answers at once)`,
      rows: [
        ['ask_agent round trip host overhead p50', fmtMs(a50), `floor: one plain warm turn ${fmtMs(p50)}, ratio ${fmtRatio(a50, p50)}; the asked agent's model time ${fmtMs(modelMs)} subtracted`],
        ['ask_agent round trip host overhead p95', fmtMs(a95), `floor p95 ${fmtMs(percentile(plain, 95))}, ratio ${fmtRatio(a95, percentile(plain, 95))}`],
        ['host tool round trip (board_read) p50', fmtMs(t50), `the part of an ask that is the tool call itself; ask minus it ${fmtMs(a50 - t50)} is the asked agent's turn`],
        ['asks answered', `${done}`, `of ${rounds + 1} (one warm-up)`],
      ],
    };
  } finally {
    await host.stop();
    await model.close();
  }
}

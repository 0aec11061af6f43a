import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGENT_SOCKET_PATH } from '../../container/agent/protocol.js';
import type { RecordedRequest, ScriptedReply } from '../fakes/fake-model.js';
import { middayClock } from '../helpers/clock.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';
import { toolOutputs } from '../helpers/socket-probe.js';

const skip = await dockerSkipReason();

/** Each kind of prompt an agent may send to make its calls cost more than reserved; `reasoning` calls a model whose hidden reasoning passes max_tokens. */
const KINDS = ['digits', 'ascii', 'emoji', 'cjk', 'tools', 'reasoning'] as const;
type Kind = (typeof KINDS)[number];

const LIMIT_MICROS = 500_000;
const PROMPT_BYTES = 300_000;
const MARK = 'BUDGET_CALL';
const PROBE_SYSTEM = 'budget-probe';
/** Reasoning tokens the reasoner adds beyond max_tokens (DeepSeek's reasoner: up to 32K). */
const HIDDEN_REASONING = 32_000;
/** Smaller prompts for the reasoner, so that the turn's own last call still fits once three probe calls are charged. */
const REASONING_PROMPT_BYTES = 135_000;
const modelOf = (kind: Kind) => (kind === 'reasoning' ? 'reasoner-model' : 'fake-model');

/**
 * Runs under `node -e` in the agent's container: 8 calls of about 300 kB, 4 at a time, straight
 * to the group's socket, one marked line per answer. No single quotes: it is quoted for sh.
 */
function probeScript(kind: Kind): string {
  return `
const http = require("http");
const kind = ${JSON.stringify(kind)}, bytes = ${PROMPT_BYTES}, socket = ${JSON.stringify(AGENT_SOCKET_PATH)};
const spaced = (n) => { let t = ""; for (let i = 0; t.length < n; i++) t += (i % 10) + " "; return t.slice(0, n); };
const ascii = (n) => { let t = ""; for (let i = 0; i < n; i++) t += String.fromCharCode(32 + Math.floor(Math.random() * 95)); return t; };
const text = { digits: () => spaced(bytes), reasoning: () => spaced(${REASONING_PROMPT_BYTES}), ascii: () => ascii(bytes), emoji: () => "\\ud83e\\udd80\\ud83d\\ude00\\ud83c\\udf89".repeat(bytes / 12), cjk: () => "\\u6f22\\u5b57\\u4eee\\u540d".repeat(bytes / 12) };
function body() {
  const b = { model: ${JSON.stringify(modelOf(kind))}, messages: [{ role: "system", content: "${PROBE_SYSTEM}" }] };
  if (kind !== "tools") { b.messages.push({ role: "user", content: text[kind]() }); return JSON.stringify(b); }
  b.messages.push({ role: "user", content: "use a tool" });
  b.tools = [];
  for (let i = 0; i < 100; i++) b.tools.push({ type: "function", function: { name: "tool_" + i, description: spaced(bytes / 100), parameters: { type: "object", properties: { a: { type: "string" } } } } });
  return JSON.stringify(b);
}
const call = (i) => new Promise((done) => {
  const data = body();
  const print = (r) => { console.log("${MARK} " + JSON.stringify(Object.assign({ i }, r))); done(); };
  const req = http.request({ socketPath: socket, method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } }, (res) => {
    let t = "";
    res.setEncoding("utf8");
    res.on("data", (c) => (t += c));
    res.on("end", () => { let e = {}; try { e = JSON.parse(t).error || {}; } catch {} print({ status: res.statusCode, code: e.code, message: e.message }); });
  });
  req.on("error", (e) => print({ error: e.code || e.message }));
  req.end(data);
});
(async () => { for (let round = 0; round < 2; round++) await Promise.all([0, 1, 2, 3].map((j) => call(round * 4 + j))); })();
`.replace(/\n/g, ' ');
}

interface CallResult {
  i: number;
  status?: number;
  code?: string;
  message?: string;
  error?: string;
}

function callResults(outputs: readonly string[]): CallResult[] {
  const line = new RegExp(`^${MARK} (.*)$`, 'gm');
  return outputs.flatMap((o) => [...o.matchAll(line)].map((m) => JSON.parse(m[1]!) as CallResult)).sort((a, b) => a.i - b.i);
}

/** An upstream whose tokenizer counts a prompt token per byte of the messages and tools it got, and uses the whole output allowance. */
function byteCountingUsage(req: RecordedRequest): Record<string, number> {
  const prompt = Buffer.byteLength(JSON.stringify(req.body.messages ?? [])) + Buffer.byteLength(JSON.stringify(req.body.tools ?? []));
  const probing = (req.body.messages as Array<{ content: unknown }> | undefined)?.[0]?.content === PROBE_SYSTEM;
  const reasoning = req.body.model === 'reasoner-model' && probing ? HIDDEN_REASONING : 0;
  return { prompt_tokens: prompt, completion_tokens: Number(req.body.max_tokens ?? 0) + reasoning };
}

/** The agent runs the probe for the kind named in the chat, then says done. */
function scriptedModel(req: RecordedRequest): ScriptedReply {
  const usage = byteCountingUsage(req);
  const messages = req.body.messages as Array<{ role: string; content: unknown }>;
  if (messages[0]?.content === PROBE_SYSTEM) return { content: 'ok', usage, delayMs: 200 };
  if (messages.at(-1)?.role === 'tool') return { content: 'done', usage };
  const asked = JSON.stringify(messages.filter((m) => m.role === 'user').at(-1)?.content);
  const kind = /budget-run:(\w+)/.exec(asked)?.[1] as Kind;
  return { toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: `node -e '${probeScript(kind)}'`, timeout_seconds: 120 }) }], usage };
}

test('no prompt makes parallel calls settle above the daily limit, and every refused call is told why', { skip, timeout: 600_000 }, async (t) => {
  const groups = Object.fromEntries(
    KINDS.map((kind) => [kind, `chats: [local:${kind}]\nrequireTrigger: false\nmodel: ${modelOf(kind)}\ntimezone: UTC\nmaxOutputTokens: 100\nbudget: { dailyUsd: ${LIMIT_MICROS / 1e6} }\n`]),
  );
  const h = await startHarness({ groups, enclaveYaml: 'prices:\n  fake-model: { input: 0.5, output: 2 }\n  reasoner-model: { input: 0.5, output: 2, maxOutputTokens: 33000 }\n', start: { clock: middayClock() } });
  t.after(() => h.stop());
  h.model.fallback = scriptedModel;

  const figures: string[] = [];
  for (const kind of KINDS) {
    await t.test(kind, async () => {
      const before = h.model.requests.length;
      const turn = await h.say(kind, `budget-run:${kind}`);
      const final = h.model.requests.slice(before).find((r) => (r.body.messages as Array<{ role: string }>).at(-1)?.role === 'tool');
      const results = final ? callResults(toolOutputs(final)) : [];
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      const spent = (h.app.db.prepare("SELECT COALESCE(SUM(micros), 0) AS m FROM ledger WHERE kind = 'settle' AND group_name = ?").get(kind) as { m: number }).m;
      const open = h.app.db.prepare("SELECT COUNT(*) AS n FROM ledger r WHERE kind = 'reserve' AND group_name = ? AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = r.reservation_id AND s.kind = 'settle')").get(kind) as { n: number };
      const overruns = h.app.audit.tail(500).filter((r) => r.kind === 'model_call' && r.group === kind && r.detail.overrun_micros !== undefined);
      figures.push(`${kind}: settled $${(spent / 1e6).toFixed(4)} of $${(LIMIT_MICROS / 1e6).toFixed(2)}; ${ok.length} of 8 probe calls answered, ${refused.length} refused`);
      assert.ok(turn.replies.includes('done'), `${kind}: the turn ended: ${JSON.stringify(turn.replies)}`);
      assert.equal(results.length, 8, `${kind}: every call answered: ${final ? toolOutputs(final).join('\n') : 'no tool output'}`);
      const notices = turn.replies.filter((r) => /^This group has spent \$[\d.]+ of its \$0\.50 daily budget/.test(r));
      assert.equal(notices.length, 1, `${kind}: the chat is told once why calls are refused: ${JSON.stringify(turn.replies)}`);
      for (const r of refused) {
        assert.equal(r.status, 402, `${kind} call ${r.i}: ${JSON.stringify(r)}`);
        assert.equal(r.code, 'budget_exceeded');
        assert.match(r.message ?? '', /of its \$0\.50 daily budget, and this call could cost up to \$[\d.]+; it resets at/, 'the refusal says what was spent, the limit and when it resets');
      }
      assert.ok(ok.length >= 1, `${kind}: a call that fits is not refused`);
      assert.equal(open.n, 0, `${kind}: every reservation settled`);
      assert.ok(spent <= LIMIT_MICROS, `${kind}: settled ${spent} micros against a limit of ${LIMIT_MICROS}`);
      assert.deepEqual(overruns.map((r) => r.detail), [], `${kind}: no call cost more than its reservation`);
    });
  }
  t.after(() => console.log(figures.join('\n')));
});

/**
 * The bench's model: the scripted fake, answering after a time to first token and then at a fixed
 * token rate (streamed: one token per chunk; not streamed: the whole answer once the last token is due).
 */
import { request } from 'undici';
import { FakeModel, type RecordedRequest, type ScriptedReply } from '../fakes/fake-model.js';
import { percentile } from './stats.js';

export interface Pace {
  /** Time to first token. */
  ttftMs: number;
  tokensPerSecond: number;
  /** Tokens in each answer. */
  answerTokens: number;
}

export function paceFromEnv(): Pace {
  return {
    ttftMs: Number(process.env.BENCH_TTFT_MS ?? 300),
    tokensPerSecond: Number(process.env.BENCH_TOKENS_PER_S ?? 50),
    answerTokens: Number(process.env.BENCH_ANSWER_TOKENS ?? 40),
  };
}

export const INSTANT: Pace = { ttftMs: 0, tokensPerSecond: Infinity, answerTokens: 1 };

let answers = 0;

/** One answer at this pace; its first token names the answer (`reply-<n>`) so duplicates can be told apart. */
export function pacedReply(pace: Pace, req: RecordedRequest): ScriptedReply {
  const tokens = [`reply-${++answers}`, ...Array.from({ length: Math.max(0, pace.answerTokens - 1) }, (_, i) => ` word${i}`)];
  const perToken = Number.isFinite(pace.tokensPerSecond) ? 1000 / pace.tokensPerSecond : 0;
  if (req.body.stream === true) return { content: tokens.join(''), pieces: tokens, delayMs: pace.ttftMs, chunkDelayMs: perToken };
  return { content: tokens.join(''), delayMs: pace.ttftMs + perToken * (tokens.length - 1) };
}

export async function startPacedModel(pace: Pace): Promise<FakeModel> {
  const model = await FakeModel.start();
  model.fallback = (req) => pacedReply(pace, req);
  return model;
}

/** The model's own time to first token, measured by streaming from it directly (`calls` times, p50). */
export async function measuredTtft(model: FakeModel, calls: number): Promise<number> {
  const times: number[] = [];
  const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'first token, please' }] });
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const res = await request(`${model.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    let first = 0;
    for await (const chunk of res.body) if (first === 0 && String(chunk).includes('"content"')) first = performance.now() - start;
    times.push(first);
  }
  return percentile(times, 50);
}

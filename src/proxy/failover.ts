import type { GroupConfig } from '../config/groups.js';
import { ENV_PROVIDER_NAME, providerFor } from '../config/providers.js';
import type { ProviderConfig } from '../config/schema.js';
import type { Cooldowns } from './cooldowns.js';
import { attemptCall, MID_STREAM_RESTART_REASON, type CallContext, type CallServices, type Candidate } from './model-call.js';
import { restartEvent } from './response-relay.js';
import { attemptFailureText, refusal, sendRefusal, type AttemptFailure } from './refusal-errors.js';

/**
 * The models to try for a request: the one the agent asked for, then the group's models that
 * come after it in group.yaml order (model, then fallbacks). Asking for a fallback directly
 * never goes back to the primary.
 */
export function failoverModels(group: GroupConfig, requested: string): string[] {
  const at = group.allowedModels.indexOf(requested);
  return at === -1 ? [requested] : group.allowedModels.slice(at);
}

export function candidateFor(providers: readonly ProviderConfig[], model: string): Candidate | undefined {
  const provider = providerFor(providers, model);
  if (!provider) return undefined;
  const index = providers.indexOf(provider);
  return { model, provider, providerIndex: provider.name === ENV_PROVIDER_NAME ? undefined : index };
}

interface Plan {
  order: Candidate[];
  skipped: { candidate: Candidate; failure: AttemptFailure }[];
}

/**
 * Candidates on cooldown are skipped, unless every candidate is cooling down: then the one whose
 * cooldown ends first is tried anyway, so a group with one model is not shut out by one 429.
 */
export function planAttempts(candidates: readonly Candidate[], cooldowns: Cooldowns): Plan {
  const waits = candidates.map((c) => ({ candidate: c, ms: cooldowns.remainingMs(c.provider.name, c.model) }));
  const ready = waits.filter((w) => w.ms === 0).map((w) => w.candidate);
  const cooling = waits.filter((w) => w.ms > 0);
  const skipped = (list: typeof cooling): Plan['skipped'] =>
    list.map((w) => ({ candidate: w.candidate, failure: { kind: 'cooling', seconds: Math.ceil(w.ms / 1000) } }));
  if (ready.length > 0 || cooling.length === 0) return { order: ready, skipped: skipped(cooling) };
  const soonest = cooling.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { order: [soonest.candidate], skipped: skipped(cooling.filter((w) => w !== soonest)) };
}

/** Tries the candidates in order until one answers; the agent gets exactly one response. */
export async function answerWithFailover(s: CallServices, ctx: CallContext, providers: readonly ProviderConfig[]): Promise<void> {
  const failures: string[] = [];
  const statuses: number[] = [];
  const candidates: Candidate[] = [];
  for (const model of failoverModels(ctx.group, ctx.request.model)) {
    const candidate = candidateFor(providers, model);
    if (candidate) candidates.push(candidate);
    else failures.push(attemptFailureText(undefined, model, { kind: 'no_provider' }));
  }
  const plan = planAttempts(candidates, s.cooldowns);
  for (const { candidate, failure } of plan.skipped) failures.push(attemptFailureText(candidate.provider.name, candidate.model, failure));

  let tried = 0;
  for (const [i, candidate] of plan.order.entries()) {
    if (ctx.agentGone.aborted) return;
    const result = await attemptCall(s, ctx, candidate);
    if (!result.next) return;
    if (result.failure.kind !== 'no_key') tried++;
    if (result.failure.kind === 'status') statuses.push(result.failure.status);
    failures.push(attemptFailureText(candidate.provider.name, candidate.model, result.failure));
    const next = plan.order[i + 1];
    if (next) s.log.info({ group: ctx.group.name, failed: candidate.model, next: next.model }, 'model failed; trying the next one');
    // The agent already read part of a streamed answer: it is told to drop it before the next model's.
    if (next && ctx.res.headersSent && !ctx.res.writableEnded) ctx.res.write(restartEvent(MID_STREAM_RESTART_REASON));
  }
  if (ctx.agentGone.aborted) return;
  const message = `no model could answer: ${failures.join('; ')}`;
  const allRateLimited = tried > 0 && statuses.length === tried && statuses.every((st) => st === 429);
  const answer =
    tried === 0 ? refusal(503, 'no_model_available', message)
    : allRateLimited ? refusal(429, 'upstream_rate_limited', message)
    : refusal(502, 'upstream_failed', message);
  const group = ctx.group.name;
  // Each attempt that reached the ledger has its model_call row; this row says how the call ended.
  s.audit.append({ kind: 'model_refused', group, actor: `agent:${group}`, detail: { reason: answer.code, model: ctx.request.model, tried, message } });
  s.refusalLog.warn(group, { reason: answer.code, model: ctx.request.model, tried }, 'no model could answer');
  sendRefusal(ctx.res, answer);
}

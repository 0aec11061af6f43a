import type { ServerResponse } from 'node:http';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { ProviderConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { costMicros, estimatePromptTokens, missingPriceMessage, priceFor, worstCaseMicros, type PriceTable } from '../ledger/pricing.js';
import type { BudgetLedger, BudgetRefusal, ModelPrice, SettleRequest, TokenUsage } from '../ledger/types.js';
import { NO_USAGE } from '../ledger/usage.js';
import type { Cooldowns } from './cooldowns.js';
import { refusal, sendRefusal, attemptFailureText, type AttemptFailure } from './refusal-errors.js';
import type { ChatRequest } from './request-filter.js';
import { readJsonAnswer, relayStream } from './response-relay.js';
import { callUpstream, isRetryableStatus, scrubUpstream, type UpstreamDispatcher } from './upstream-call.js';

/** What one model call needs from the host. */
export interface CallServices {
  globalPrices: () => PriceTable;
  secret: (name: string) => string | undefined;
  ledger: BudgetLedger;
  audit: AuditSink;
  cooldowns: Cooldowns;
  dispatcher: UpstreamDispatcher;
  log: Logger;
  onModelUsed?: (group: string, model: string, provider: string) => void;
  onBudgetRefused?: (group: string, refusal: BudgetRefusal) => void;
  onSettled?: (group: string) => void;
}

export interface CallContext {
  group: GroupConfig;
  request: ChatRequest;
  res: ServerResponse;
  /** Aborted when the agent closes its connection before the answer is complete. */
  agentGone: AbortSignal;
}

export interface Candidate {
  model: string;
  provider: ProviderConfig;
  /** The provider's place in enclave.yaml `providers`, for messages; undefined when not from there. */
  providerIndex: number | undefined;
}

/** next: this candidate did not answer and the agent still waits, so the next one may try. */
export type AttemptResult = { next: false } | { next: true; failure: AttemptFailure };

const DONE: AttemptResult = { next: false };
const MAX_ERROR_BODY_BYTES = 64 * 1024;

type Outcome = SettleRequest['outcome'];

/** The reservation of one upstream attempt, settled and audited exactly once. */
class ReservedCall {
  constructor(
    private readonly s: CallServices,
    private readonly ctx: CallContext,
    private readonly candidate: Candidate,
    private readonly price: ModelPrice,
    private readonly reservationId: string,
    private readonly reservedMicros: number,
  ) {}

  settle(outcome: Outcome, usage: TokenUsage | undefined, extra: Record<string, unknown> = {}): void {
    const charged = outcome === 'failed' ? NO_USAGE : usage;
    const micros = charged ? costMicros(charged, this.price) : this.reservedMicros;
    const group = this.ctx.group.name;
    try {
      this.s.ledger.settle({ reservationId: this.reservationId, usage: charged, micros: charged ? micros : undefined, outcome });
    } catch (err) {
      this.s.log.error({ group, reservationId: this.reservationId, err: (err as Error).message }, 'settling a model call failed; the reservation stays charged');
    }
    this.s.audit.append({
      kind: 'model_call',
      group,
      actor: `agent:${group}`,
      detail: {
        model: this.candidate.model,
        provider: this.candidate.provider.name,
        outcome,
        stream: this.ctx.request.stream,
        reservationId: this.reservationId,
        reservedMicros: this.reservedMicros,
        micros,
        inputTokens: charged?.inputTokens ?? null,
        cachedInputTokens: charged?.cachedInputTokens ?? null,
        outputTokens: charged?.outputTokens ?? null,
        ...extra,
      },
    });
    this.s.onSettled?.(group);
  }
}

function isEventStream(contentType: string): boolean {
  return contentType.toLowerCase().includes('text/event-stream');
}

/**
 * One candidate: price, reservation, upstream call with the host's key, the answer passed on,
 * settlement. A refusal (price, budget) or a non-retryable error answers the agent here.
 */
export async function attemptCall(s: CallServices, ctx: CallContext, candidate: Candidate): Promise<AttemptResult> {
  const { group, request, res } = ctx;
  const { model, provider } = candidate;
  const actor = `agent:${group.name}`;

  const key = provider.secret ? s.secret(provider.secret) : undefined;
  if (provider.secret && !key) {
    s.log.warn({ group: group.name, provider: provider.name, keyName: provider.secret }, 'the provider key is not set; skipping the provider');
    return { next: true, failure: { kind: 'no_key' } };
  }

  const price = priceFor(provider, model, s.globalPrices());
  if (!price) {
    const message = missingPriceMessage(model, candidate.providerIndex);
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'no_price', model, provider: provider.name, message } });
    sendRefusal(res, refusal(403, 'model_price_missing', message));
    return DONE;
  }

  const json = JSON.stringify({ ...request.body, model });
  const promptTokens = estimatePromptTokens(json, request.messageCount);
  const reservedMicros = worstCaseMicros(promptTokens, request.maxOutputTokens, price);
  const reservation = s.ledger.reserve({
    group: group.name,
    timezone: group.timezone,
    model,
    provider: provider.name,
    micros: reservedMicros,
    tokens: promptTokens + request.maxOutputTokens,
  });
  if (!reservation.ok) {
    const { message, ...limits } = reservation.refusal;
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'budget', model, provider: provider.name, message, ...limits } });
    s.onBudgetRefused?.(group.name, reservation.refusal);
    sendRefusal(res, refusal(402, 'budget_exceeded', message));
    return DONE;
  }
  const call = new ReservedCall(s, ctx, candidate, price, reservation.reservationId, reservedMicros);

  const upstream = await callUpstream({ dispatcher: s.dispatcher, provider, key, json, stream: request.stream, signal: ctx.agentGone });
  if (!upstream.ok) {
    if (upstream.failure === 'aborted') {
      call.settle('aborted', undefined, { reason: 'agent_gone' });
      return DONE;
    }
    s.log.warn({ group: group.name, provider: provider.name, model, err: scrubUpstream(upstream.error.message, provider, key) }, 'model call failed');
    call.settle('failed', undefined, { reason: upstream.failure });
    s.cooldowns.start(provider.name, model);
    return { next: true, failure: upstream.failure === 'timeout' ? { kind: 'timeout', seconds: provider.timeoutSeconds } : { kind: 'unreachable' } };
  }

  if (upstream.status < 200 || upstream.status > 299) {
    // Never passed on: an upstream error body can quote part of the key or name the upstream.
    await upstream.body.dump({ limit: MAX_ERROR_BODY_BYTES }).catch(() => undefined);
    s.log.warn({ group: group.name, provider: provider.name, model, status: upstream.status }, 'provider answered with an error');
    call.settle('failed', undefined, { status: upstream.status });
    const failure: AttemptFailure = { kind: 'status', status: upstream.status };
    if (isRetryableStatus(upstream.status)) {
      s.cooldowns.start(provider.name, model);
      return { next: true, failure };
    }
    sendRefusal(res, refusal(upstream.status, 'upstream_error', attemptFailureText(provider.name, model, failure)));
    return DONE;
  }

  if (isEventStream(upstream.contentType)) {
    s.onModelUsed?.(group.name, model, provider.name);
    const relayed = await relayStream(upstream.body, res, ctx.agentGone);
    if (relayed.end === 'complete') {
      call.settle(relayed.usage ? 'ok' : 'no_usage', relayed.usage, { status: upstream.status });
      res.end();
    } else {
      s.log.warn({ group: group.name, provider: provider.name, model, end: relayed.end }, 'streamed answer did not finish');
      call.settle('aborted', relayed.usage, { status: upstream.status, reason: relayed.end });
      res.destroy();
    }
    return DONE;
  }

  const answer = await readJsonAnswer(upstream.body, ctx.agentGone);
  if (answer.end === 'complete') {
    s.onModelUsed?.(group.name, model, provider.name);
    res.writeHead(upstream.status, { 'content-type': 'application/json', 'content-length': answer.bytes.length });
    res.end(answer.bytes);
    // After the answer is on its way: the agent need not wait for the bookkeeping.
    call.settle(answer.usage ? 'ok' : 'no_usage', answer.usage, { status: upstream.status });
    return DONE;
  }
  if (answer.end === 'agent_gone') {
    call.settle('aborted', undefined, { status: upstream.status, reason: 'agent_gone' });
    return DONE;
  }
  // The answer broke off or is not JSON: nothing reached the agent yet, so another model may answer.
  s.log.warn({ group: group.name, provider: provider.name, model, end: answer.end }, 'provider sent a broken answer');
  call.settle(answer.end === 'cut' ? 'aborted' : 'no_usage', undefined, { status: upstream.status, reason: answer.end });
  s.cooldowns.start(provider.name, model);
  return { next: true, failure: answer.end === 'cut' ? { kind: 'broke_off' } : { kind: 'broken_answer' } };
}

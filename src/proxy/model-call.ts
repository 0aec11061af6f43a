import type { ServerResponse } from 'node:http';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { ProviderConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { imagePromptTokens, missingPriceMessage, outputAllowance, outputUnbounded, priceFor, unboundedOutputMessage, worstCaseMicros, type PriceTable } from '../ledger/pricing.js';
import { promptTokenBound } from '../ledger/prompt-bound.js';
import type { BudgetLedger, BudgetRefusal } from '../ledger/types.js';
import type { Cooldowns } from './cooldowns.js';
import type { RefusalLog } from './refusal-log.js';
import { refusal, sendRefusal, attemptFailureText, type AttemptFailure } from './refusal-errors.js';
import type { ChatRequest } from './request-filter.js';
import { ReservedCall } from './reserved-call.js';
import { readErrorUsage, readJsonAnswer, relayStream } from './response-relay.js';
import { callUpstream, isRetryableStatus, scrubUpstream, type UpstreamDispatcher, type UpstreamError } from './upstream-call.js';

/** What one model call needs from the host. */
export interface CallServices {
  globalPrices: () => PriceTable;
  secret: (name: string) => string | undefined;
  /** Every secret value the host holds, scrubbed from what goes back to the agent. */
  secretValues: () => readonly string[];
  ledger: BudgetLedger;
  audit: AuditSink;
  cooldowns: Cooldowns;
  dispatcher: UpstreamDispatcher;
  log: Logger;
  /** Warn lines about a group's refused requests, throttled per group. */
  refusalLog: RefusalLog;
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

/** Told the answer so far was dropped because the next model answers from the start. */
export const MID_STREAM_RESTART_REASON = 'the model broke off mid-answer; another model answers from the start';

const DONE: AttemptResult = { next: false };
const MAX_ERROR_BODY_BYTES = 64 * 1024;

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
    s.refusalLog.warn(group.name, { provider: provider.name, keyName: provider.secret }, 'the provider key is not set; skipping the provider');
    return { next: true, failure: { kind: 'no_key' } };
  }

  const price = priceFor(provider, model, s.globalPrices());
  if (!price) {
    const message = missingPriceMessage(model, candidate.providerIndex);
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'no_price', model, provider: provider.name, message } });
    sendRefusal(res, refusal(403, 'model_price_missing', message));
    return DONE;
  }

  // A photo goes only to a model marked as reading images, priced with that model's own image prices (failover included).
  if (request.images.count > 0 && price.vision !== true) {
    const message = `model ${model} does not read images (its prices entry has no vision: true), so the ${request.images.count} image part(s) were not sent; answer from the text, or leave the image parts out`;
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'no_vision', model, provider: provider.name, message } });
    sendRefusal(res, refusal(400, 'model_without_vision', message));
    return DONE;
  }

  // Fail closed: after one call overran its reservation, none more until the owner sets the model's maximum output.
  const overrunOutput = s.ledger.largestOverrunOutput(group.name, provider.name, model);
  if (outputUnbounded(overrunOutput, price)) {
    const message = unboundedOutputMessage(model, price, overrunOutput!, candidate.providerIndex);
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'output_unbounded', model, provider: provider.name, message } });
    s.refusalLog.warn(group.name, { model, provider: provider.name, largestOutput: overrunOutput }, 'a model is refused until its prices entry sets maxOutputTokens');
    sendRefusal(res, refusal(403, 'model_output_unbounded', message));
    return DONE;
  }

  const body = { ...request.body, model };
  const json = JSON.stringify(body);
  const promptTokens = promptTokenBound({ ...request.boundBody, model }) + imagePromptTokens(price, request.images);
  const maxOutput = outputAllowance(request.maxOutputTokens, price);
  const reservedMicros = worstCaseMicros(promptTokens, maxOutput, price);
  const reservedTokens = promptTokens + maxOutput;
  const reservation = s.ledger.reserve({
    group: group.name,
    timezone: group.timezone,
    model,
    provider: provider.name,
    micros: reservedMicros,
    tokens: reservedTokens,
  });
  if (!reservation.ok) {
    const { message, ...limits } = reservation.refusal;
    s.audit.append({ kind: 'model_refused', group: group.name, actor, detail: { reason: 'budget', model, provider: provider.name, message, ...limits } });
    s.onBudgetRefused?.(group.name, reservation.refusal);
    sendRefusal(res, refusal(402, 'budget_exceeded', message));
    return DONE;
  }
  const call = new ReservedCall(s, {
    group: group.name,
    model,
    provider: provider.name,
    stream: request.stream,
    price,
    reservation: { id: reservation.reservationId, micros: reservedMicros, tokens: reservedTokens },
  });

  const upstream = await callUpstream({ dispatcher: s.dispatcher, provider, key, json, stream: request.stream, signal: ctx.agentGone });
  if (!upstream.ok) {
    if (upstream.failure === 'aborted') {
      call.settle('aborted', 'reservation', { reason: 'agent_gone' });
      return DONE;
    }
    s.log.warn({ group: group.name, provider: provider.name, model, err: scrubUpstream(upstream.error.message, provider, key) }, 'model call failed');
    // Only a request that provably never left is free; one that may have reached the provider
    // (a timeout, a connection lost after sending) may be billed, so its reservation is charged.
    call.settle('failed', upstream.neverSent ? 'nothing' : 'reservation', { reason: upstream.failure });
    s.cooldowns.start(provider.name, model);
    return { next: true, failure: failureOfError(upstream, provider) };
  }

  if (upstream.status < 200 || upstream.status > 299) {
    // Providers do not bill an error answer (5xx, 429, 4xx), so it costs nothing unless the
    // body reports usage. The body is read for that only, never passed on.
    const usage = await readErrorUsage(upstream.body, MAX_ERROR_BODY_BYTES);
    s.log.warn({ group: group.name, provider: provider.name, model, status: upstream.status }, 'provider answered with an error');
    call.settle('failed', usage ?? 'nothing', { status: upstream.status });
    const failure: AttemptFailure = { kind: 'status', status: upstream.status };
    if (isRetryableStatus(upstream.status)) {
      s.cooldowns.start(provider.name, model);
      return { next: true, failure };
    }
    sendRefusal(res, refusal(upstream.status, 'upstream_error', attemptFailureText(provider.name, model, failure)));
    return DONE;
  }

  // Whatever the provider sends back (an echo of the request's headers, a debugging field), no secret passes.
  const secrets = [...s.secretValues(), ...(key ? [key] : [])];
  if (isEventStream(upstream.contentType)) {
    s.onModelUsed?.(group.name, model, provider.name);
    const relayed = await relayStream(upstream.body, res, ctx.agentGone, secrets);
    if (relayed.end === 'complete') {
      call.settle(relayed.usage ? 'ok' : 'no_usage', relayed.usage ?? 'reservation', { status: upstream.status });
      res.end();
    } else {
      s.log.warn({ group: group.name, provider: provider.name, model, end: relayed.end }, 'streamed answer did not finish');
      call.settle('aborted', relayed.usage ?? 'reservation', { status: upstream.status, reason: relayed.end });
      // A provider that broke off mid-answer: the next model may answer on the same stream, from the start.
      if (relayed.end === 'cut' && !ctx.agentGone.aborted) {
        s.cooldowns.start(provider.name, model);
        return { next: true, failure: { kind: 'broke_off' } };
      }
      // An unreadable stream was ended with an error event the agent can read; a cut one breaks off.
      if (relayed.end === 'unreadable') res.end();
      else res.destroy();
    }
    return DONE;
  }

  const answer = await readJsonAnswer(upstream.body, ctx.agentGone, secrets);
  if (answer.end === 'complete') {
    s.onModelUsed?.(group.name, model, provider.name);
    res.writeHead(upstream.status, { 'content-type': 'application/json', 'content-length': answer.bytes.length });
    res.end(answer.bytes);
    // After the answer is on its way: the agent need not wait for the bookkeeping.
    call.settle(answer.usage ? 'ok' : 'no_usage', answer.usage ?? 'reservation', { status: upstream.status });
    return DONE;
  }
  if (answer.end === 'agent_gone') {
    call.settle('aborted', 'reservation', { status: upstream.status, reason: 'agent_gone' });
    return DONE;
  }
  // The answer broke off or is not JSON: nothing reached the agent yet, so another model may answer.
  s.log.warn({ group: group.name, provider: provider.name, model, end: answer.end }, 'provider sent a broken answer');
  call.settle(answer.end === 'cut' ? 'aborted' : 'no_usage', 'reservation', { status: upstream.status, reason: answer.end });
  s.cooldowns.start(provider.name, model);
  return { next: true, failure: answer.end === 'cut' ? { kind: 'broke_off' } : { kind: 'broken_answer' } };
}

function failureOfError(error: UpstreamError, provider: ProviderConfig): AttemptFailure {
  if (error.failure === 'timeout') return { kind: 'timeout', seconds: provider.timeoutSeconds };
  return error.failure === 'dropped' ? { kind: 'dropped' } : { kind: 'unreachable' };
}

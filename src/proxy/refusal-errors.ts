import type { ServerResponse } from 'node:http';
import { sendApiError } from '../http-util.js';

/** A request the proxy answers itself: OpenAI-style error body, so the agent's SDK shows the message. */
export interface ProxyRefusal {
  status: number;
  /** The error's type and code; also the audit row's reason. */
  code: string;
  /** Written by the host for the agent; never quotes a key, an upstream URL or an upstream body. */
  message: string;
}

export function refusal(status: number, code: string, message: string): ProxyRefusal {
  return { status, code, message };
}

export function sendRefusal(res: ServerResponse, r: ProxyRefusal): void {
  // A stream already under way (a model broke off and failover found no other): the refusal is its last event.
  if (res.headersSent) {
    if (!res.writableEnded && !res.destroyed) res.end(`data: ${JSON.stringify({ error: { message: r.message, type: r.code, code: r.code } })}\n\n`);
    return;
  }
  sendApiError(res, r.status, r.message, r.code);
}

/** Why one candidate did not produce an answer, as the agent may read it. */
export type AttemptFailure =
  | { kind: 'status'; status: number }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'unreachable' }
  | { kind: 'dropped' }
  | { kind: 'broke_off' }
  | { kind: 'broken_answer' }
  | { kind: 'no_key' }
  | { kind: 'no_provider' }
  | { kind: 'cooling'; seconds: number };

/** What a provider's HTTP status means, for people: no number, what happened. */
function statusText(status: number, model: string): string {
  if (status === 401 || status === 403) return `refused the key configured on the host for ${model}`;
  if (status === 404) return `does not know model ${model}`;
  if (status === 408 || status === 504) return `took too long to answer for ${model}`;
  if (status === 429) return `is rate limiting calls to ${model}; try again shortly`;
  if (status >= 500) return `had an internal error answering for ${model}`;
  return `rejected the request for ${model}`;
}

/** One sentence per failed candidate; names the provider by its config name only. */
export function attemptFailureText(provider: string | undefined, model: string, failure: AttemptFailure): string {
  const who = `provider ${provider ?? '?'}`;
  switch (failure.kind) {
    case 'status':
      return `${who} ${statusText(failure.status, model)}`;
    case 'timeout':
      return `${who} did not answer for ${model} within ${failure.seconds} s`;
    case 'unreachable':
      return `${who} is unreachable`;
    case 'dropped':
      return `${who} closed the connection for ${model} before answering`;
    case 'broke_off':
      return `${who} broke off its answer for ${model}`;
    case 'broken_answer':
      return `${who} sent an answer for ${model} that is not valid JSON`;
    case 'no_key':
      return `${who} has no key set on the host`;
    case 'no_provider':
      return `no provider is configured for model ${model}`;
    case 'cooling':
      return `${who} is skipped for ${model} for another ${failure.seconds} s after a recent failure`;
  }
}

import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { ProviderConfig } from '../config/schema.js';
import { scrubSecrets } from '../logger.js';

export type UpstreamDispatcher = Agent;

/** One connection pool per proxy: keep-alive to each provider saves a handshake per call. */
export function createUpstreamDispatcher(): UpstreamDispatcher {
  return new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
}

export interface UpstreamRequest {
  dispatcher: UpstreamDispatcher;
  provider: ProviderConfig;
  /** Injected here and nowhere else. */
  key: string | undefined;
  json: string;
  stream: boolean;
  /** Aborted when the agent goes away. */
  signal: AbortSignal;
}

export interface UpstreamAnswer {
  ok: true;
  status: number;
  contentType: string;
  body: Readable;
}

export interface UpstreamError {
  ok: false;
  /**
   * aborted: the agent went away, so nobody waits for another try. dropped: the connection
   * broke after the request went out, before an answer began.
   */
  failure: 'timeout' | 'unreachable' | 'dropped' | 'aborted';
  /** True only when the error proves no byte of the request reached the provider. */
  neverSent: boolean;
  /** May name the upstream host: for the scrubbed log only. */
  error: Error;
}

export function chatCompletionsUrl(provider: ProviderConfig): string {
  return `${provider.baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const DROPPED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * Failures before a connection existed: name resolution, connect, TLS certificate checks. The
 * request is written only on an established (and verified) connection, so none of it was sent.
 */
const NEVER_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The codes of an error, its cause and, for a failed multi-address connect, each attempt's error. */
function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 3 || typeof err !== 'object' || err === null) return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const nested = [e.cause, ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : [])];
  return [...(typeof e.code === 'string' ? [e.code] : []), ...nested.flatMap((inner) => errorCodes(inner, depth + 1))];
}

/**
 * Whether a failed request provably never reached the provider. Anything unknown counts as
 * reached: a provider may bill a request whose answer never arrived.
 */
export function provesNeverSent(err: unknown): boolean {
  const codes = errorCodes(err);
  return codes.length > 0 && codes.every((code) => NEVER_SENT_CODES.has(code));
}

function failureOf(codes: readonly string[]): UpstreamError['failure'] {
  if (codes.some((code) => TIMEOUT_CODES.has(code))) return 'timeout';
  if (codes.some((code) => DROPPED_CODES.has(code))) return 'dropped';
  return 'unreachable';
}

/**
 * POSTs the filtered body with the host's key. The provider's timeoutSeconds bounds the wait for
 * the answer to start and every later pause between its chunks.
 */
export async function callUpstream(req: UpstreamRequest): Promise<UpstreamAnswer | UpstreamError> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: req.stream ? 'text/event-stream' : 'application/json',
  };
  if (req.key) headers.authorization = `Bearer ${req.key}`;
  const timeoutMs = req.provider.timeoutSeconds * 1000;
  try {
    const answer = await request(chatCompletionsUrl(req.provider), {
      method: 'POST',
      headers,
      body: req.json,
      signal: req.signal,
      dispatcher: req.dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const type = answer.headers['content-type'];
    return { ok: true, status: answer.statusCode, contentType: (Array.isArray(type) ? type[0] : type) ?? '', body: answer.body };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    if (req.signal.aborted) return { ok: false, failure: 'aborted', neverSent: false, error };
    return { ok: false, failure: failureOf(errorCodes(err)), neverSent: provesNeverSent(err), error };
  }
}

/** 5xx, 429 and 408 mean "try the next model"; other errors are the request's own fault. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** For log lines about an upstream error: no key, no base URL, no upstream host. */
export function scrubUpstream(text: string, provider: ProviderConfig, key: string | undefined): string {
  let host = '';
  try {
    host = new URL(provider.baseUrl).host;
  } catch {
    // baseUrl is validated as a URL when the config loads
  }
  return scrubSecrets(text, [key ?? '', provider.baseUrl, provider.baseUrl.replace(/\/+$/, ''), host]);
}

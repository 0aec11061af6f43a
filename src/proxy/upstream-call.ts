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
  body: Readable & { dump(opts?: { limit: number }): Promise<void> };
}

export interface UpstreamError {
  ok: false;
  /** aborted: the agent went away, so nobody waits for another try. */
  failure: 'timeout' | 'unreachable' | 'aborted';
  /** May name the upstream host: for the scrubbed log only. */
  error: Error;
}

export function chatCompletionsUrl(provider: ProviderConfig): string {
  return `${provider.baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

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
    if (req.signal.aborted) return { ok: false, failure: 'aborted', error };
    const code = (error as { code?: unknown }).code;
    return { ok: false, failure: typeof code === 'string' && TIMEOUT_CODES.has(code) ? 'timeout' : 'unreachable', error };
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

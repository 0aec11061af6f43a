import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { GroupConfig } from '../config/groups.js';
import { providerFor } from '../config/providers.js';
import type { ProviderConfig } from '../config/schema.js';
import { readJson, sendApiError, sendJson } from '../http-util.js';
import type { Logger } from '../logger.js';
import { scrubSecrets } from '../logger.js';

export const MAX_MODEL_REQUEST_BYTES = 4 * 1024 * 1024;
/** Model calls one group may have in flight at once. */
export const MAX_CONCURRENT_CALLS_PER_GROUP = 4;

export interface ModelProxyDeps {
  groups: () => ReadonlyMap<string, GroupConfig>;
  providers: () => readonly ProviderConfig[];
  /** Looks up a provider key by name; the agent never sees what this returns. */
  secret: (name: string) => string | undefined;
  log: Logger;
  onModelUsed?: (group: string, model: string, provider: string) => void;
}

interface ChatRequestBody {
  model?: unknown;
  [key: string]: unknown;
}

/**
 * The host end of every model call: checks the model against the group's list, picks the
 * provider, adds its key and forwards, streaming included. The agent never learns the key or
 * the upstream URL.
 */
export function createModelProxy(deps: ModelProxyDeps) {
  const inFlight = new Map<string, number>();
  return async function handleModelRequest(group: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const running = inFlight.get(group) ?? 0;
    if (running >= MAX_CONCURRENT_CALLS_PER_GROUP) {
      req.resume();
      return sendApiError(res, 429, `at most ${MAX_CONCURRENT_CALLS_PER_GROUP} model calls may run at once`, 'too_many_calls');
    }
    inFlight.set(group, running + 1);
    try {
      await forward(group, req, res);
    } finally {
      inFlight.set(group, (inFlight.get(group) ?? 1) - 1);
    }
  };

  async function forward(group: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cfg = deps.groups().get(group);
    if (!cfg) return sendApiError(res, 403, `group ${group} is not registered`, 'unknown_group');
    const path = (req.url ?? '').split('?')[0];

    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: cfg.allowedModels.map((id) => ({ id, object: 'model', owned_by: 'enclave' })) });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendApiError(res, 404, `the proxy only serves POST /v1/chat/completions and GET /v1/models, not ${req.method} ${path}`, 'not_found');
    }

    const body = await readJson<ChatRequestBody>(req, MAX_MODEL_REQUEST_BYTES);
    const model = body.model;
    if (typeof model !== 'string' || !cfg.allowedModels.includes(model)) {
      deps.log.warn({ group, model }, 'model request refused: model not allowed for the group');
      return sendApiError(res, 403, `model ${String(model)} is not allowed for this group (allowed: ${cfg.allowedModels.join(', ')})`, 'model_not_allowed');
    }
    const provider = providerFor(deps.providers(), model);
    if (!provider) return sendApiError(res, 503, `no provider is configured for model ${model}`, 'no_provider');

    const key = provider.secret ? deps.secret(provider.secret) : undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    const scrub = (text: string) => scrubSecrets(text, [key ?? '', provider.baseUrl].filter(Boolean));

    // Cancelled when the agent goes away; the time limit covers the wait for the answer to start.
    const abort = new AbortController();
    const onClose = () => abort.abort(new Error('the agent closed the connection'));
    res.on('close', onClose);
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${provider.timeoutSeconds} s`)), provider.timeoutSeconds * 1000);
    let upstream: Response;
    try {
      upstream = await fetch(`${provider.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: abort.signal,
      });
    } catch (err) {
      res.off('close', onClose);
      deps.log.warn({ group, provider: provider.name, err: scrub((err as Error).message) }, 'provider unreachable');
      return sendApiError(res, 502, `provider ${provider.name} is unreachable`, 'upstream_unreachable');
    } finally {
      clearTimeout(timer);
    }
    deps.onModelUsed?.(group, model, provider.name);

    if (!upstream.ok) {
      res.off('close', onClose);
      await upstream.body?.cancel().catch(() => undefined);
      deps.log.warn({ group, provider: provider.name, status: upstream.status }, 'provider returned an error');
      // The upstream body is never passed on: it can quote parts of the key or name the upstream.
      return sendApiError(res, upstream.status, `provider ${provider.name} answered ${upstream.status} (${upstreamHint(upstream.status)})`, 'upstream_error');
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    if (!upstream.body) return void res.end();
    const stream = Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>);
    stream.on('error', (err) => {
      deps.log.warn({ group, err: scrub(err.message) }, 'upstream stream broke off');
      res.destroy();
    });
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  }
}

function upstreamHint(status: number): string {
  if (status === 401 || status === 403) return 'the provider refused the key configured on the host';
  if (status === 404) return 'the provider does not know this model or endpoint';
  if (status === 429) return 'rate limited by the provider; try again shortly';
  if (status >= 500) return 'the provider had an internal error';
  return 'the provider rejected the request';
}

export type ModelProxy = ReturnType<typeof createModelProxy>;

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
  return async function handleModelRequest(group: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
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

    const key = provider.apiKeyEnv ? deps.secret(provider.apiKeyEnv) : undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    const scrub = (text: string) => scrubSecrets(text, [key ?? '', provider.baseUrl].filter(Boolean));

    let upstream: Response;
    try {
      upstream = await fetch(`${provider.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(provider.timeoutSeconds * 1000),
      });
    } catch (err) {
      deps.log.warn({ group, provider: provider.name, err: scrub((err as Error).message) }, 'provider unreachable');
      return sendApiError(res, 502, `provider ${provider.name} is unreachable`, 'upstream_unreachable');
    }
    deps.onModelUsed?.(group, model, provider.name);

    if (!upstream.ok) {
      const text = scrub(await upstream.text().catch(() => ''));
      deps.log.warn({ group, provider: provider.name, status: upstream.status }, 'provider returned an error');
      return sendApiError(res, upstream.status, `provider ${provider.name} answered ${upstream.status}: ${text.slice(0, 500)}`, 'upstream_error');
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
  };
}

export type ModelProxy = ReturnType<typeof createModelProxy>;

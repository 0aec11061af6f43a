import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditSink } from '../audit/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { ProviderConfig } from '../config/schema.js';
import { BodyTooLargeError, readBody, sendJson } from '../http-util.js';
import type { PriceTable } from '../ledger/pricing.js';
import type { BudgetLedger, BudgetRefusal } from '../ledger/types.js';
import type { Logger } from '../logger.js';
import { Cooldowns } from './cooldowns.js';
import { answerWithFailover } from './failover.js';
import type { CallServices } from './model-call.js';
import { refusal, sendRefusal, type ProxyRefusal } from './refusal-errors.js';
import { RefusalLog, capLogged } from './refusal-log.js';
import { checkHeaders, filterChatRequest } from './request-filter.js';
import { createUpstreamDispatcher } from './upstream-call.js';

export const MAX_MODEL_REQUEST_BYTES = 4 * 1024 * 1024;
/** Model calls one group may have in flight at once. */
export const MAX_CONCURRENT_CALLS_PER_GROUP = 4;

export interface ModelProxyDeps {
  groups: () => ReadonlyMap<string, GroupConfig>;
  providers: () => readonly ProviderConfig[];
  /** enclave.yaml top-level `prices`; a provider's own `prices` win. */
  globalPrices: () => PriceTable;
  /** Looks up a provider key by name; the agent never sees what this returns. */
  secret: (name: string) => string | undefined;
  /** Every secret value the host holds (SecretValues), scrubbed from answers; the call's own key always is. */
  secretValues?: () => readonly string[];
  ledger: BudgetLedger;
  audit: AuditSink;
  /** failoverCooldownSeconds * 1000: how long a failed provider+model is skipped. */
  cooldownMs: number;
  clock?: Clock;
  log: Logger;
  /** The model that answered a call (for /status). */
  onModelUsed?: (group: string, model: string, provider: string) => void;
  /** A call was refused by the budget; the host tells the chat (once per window). */
  onBudgetRefused?: (group: string, refusal: BudgetRefusal) => void;
  /** A reservation was settled; the host may check the 50/80/100% notices. */
  onSettled?: (group: string) => void;
  /** The tiles of the images the host built for a group's running turn (TurnImages.tiles); unset: no image passes. */
  hostImages?: (group: string, url: string) => number | undefined;
  maxConcurrentCallsPerGroup?: number;
  maxRequestBytes?: number;
}

export type ModelProxy = (group: string, req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * The host end of every model call. The group is the socket's, never the agent's word; the
 * request is checked and filtered, the budget reserved, the key added, and the answer passed
 * back with failover across the group's models. The agent never learns the key or the upstream.
 */
export function createModelProxy(deps: ModelProxyDeps): ModelProxy {
  const maxCalls = deps.maxConcurrentCallsPerGroup ?? MAX_CONCURRENT_CALLS_PER_GROUP;
  const maxBytes = deps.maxRequestBytes ?? MAX_MODEL_REQUEST_BYTES;
  const clock = deps.clock ?? systemClock;
  const refusalLog = new RefusalLog(deps.log, clock);
  const services: CallServices = {
    globalPrices: deps.globalPrices,
    secret: deps.secret,
    secretValues: deps.secretValues ?? (() => []),
    ledger: deps.ledger,
    audit: deps.audit,
    cooldowns: new Cooldowns(deps.cooldownMs, clock),
    dispatcher: createUpstreamDispatcher(),
    log: deps.log,
    refusalLog,
    onModelUsed: deps.onModelUsed,
    onBudgetRefused: deps.onBudgetRefused,
    onSettled: deps.onSettled,
  };
  const inFlight = new Map<string, number>();

  function deny(group: string, req: IncomingMessage, res: ServerResponse, r: ProxyRefusal, detail: Record<string, unknown> = {}): void {
    const path = capLogged(req.url);
    refusalLog.warn(group, { reason: r.code, method: req.method, path }, 'model request refused');
    deps.audit.append({ kind: 'denial', group, actor: `agent:${group}`, detail: { reason: r.code, message: r.message, method: req.method, path, ...detail } });
    req.resume();
    sendRefusal(res, r);
  }

  async function chat(group: GroupConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw: Buffer;
    try {
      raw = await readBody(req, maxBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return deny(group.name, req, res, refusal(413, 'body_too_large', `the request body is larger than ${maxBytes} bytes`));
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      return deny(group.name, req, res, refusal(400, 'invalid_json', 'the request body is not valid JSON'));
    }
    const hostImages = deps.hostImages;
    const filtered = filterChatRequest(parsed, group, hostImages && ((url) => hostImages(group.name, url)));
    if (!filtered.ok) {
      const model = (parsed as { model?: unknown } | null)?.model;
      return deny(group.name, req, res, filtered.refusal, { ...(typeof model === 'string' ? { model: capLogged(model) } : {}), ...filtered.detail });
    }
    const { request } = filtered;
    if (request.dropped.length > 0) deps.log.debug({ group: group.name, fields: request.dropped.slice(0, 20), count: request.dropped.length }, 'fields not forwarded upstream');

    const agentGone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) agentGone.abort();
    });
    await answerWithFailover(services, { group, request, res, agentGone: agentGone.signal }, deps.providers());
  }

  return async function handleModelRequest(group: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cfg = deps.groups().get(group);
    if (!cfg) return deny(group, req, res, refusal(403, 'unknown_group', `group ${group} is not registered`));
    const path = (req.url ?? '').split('?')[0];
    const badHeaders = checkHeaders(req.headers);
    if (badHeaders) return deny(group, req, res, badHeaders);

    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: cfg.allowedModels.map((id) => ({ id, object: 'model', owned_by: 'enclave' })) });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return deny(group, req, res, refusal(404, 'not_found', `the proxy only serves POST /v1/chat/completions and GET /v1/models, not ${req.method} ${capLogged(path)}`));
    }
    const running = inFlight.get(group) ?? 0;
    if (running >= maxCalls) return deny(group, req, res, refusal(429, 'too_many_calls', `at most ${maxCalls} model calls may run at once`));
    inFlight.set(group, running + 1);
    try {
      await chat(cfg, req, res);
    } finally {
      const left = (inFlight.get(group) ?? 1) - 1;
      if (left > 0) inFlight.set(group, left);
      else inFlight.delete(group);
    }
  };
}

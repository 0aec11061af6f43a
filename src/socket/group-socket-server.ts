import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import {
  HOST_TOOLS_PATH,
  type HostToolRequest,
  type HostToolResponse,
  type LiveEvent,
  type LiveUpdate,
  TURN_LIVE_PATH,
  TURN_PATH,
  TURN_RESULT_PATH,
  type TurnRequest,
  type TurnResult,
} from '../../container/agent/protocol.js';
import { assertSocketPath } from '../paths.js';
import { BodyTooLargeError, readJson, sendApiError, sendJson } from '../http-util.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { ConnectionSlots } from './connection-slots.js';

export type ModelHandler = (group: string, req: IncomingMessage, res: ServerResponse) => Promise<void>;
/** Any host-performed tool; the group is the socket's and the turn the one it runs, never the agent's word. */
export type HostToolHandler = (group: string, turnId: string, tool: string, args: Record<string, unknown>) => Promise<HostToolResponse>;

const LONG_POLL_MS = 25_000;
const TOOL_BODY_LIMIT = 256 * 1024;
/** One live update (the runner joins what arrives while the last one is on its way). */
const LIVE_BODY_LIMIT = 256 * 1024;
/** Per group socket: enough for the runner and a few tools; an agent cannot exhaust the host's files. */
export const MAX_SOCKET_CONNECTIONS = 16;
/** A connection with no request in flight is closed after this long (the runner reconnects for each poll). */
export const SOCKET_IDLE_MS = 10_000;
/** A connection whose reader has not taken a byte of its response for this long is closed. */
export const SOCKET_WRITE_STALL_MS = 10_000;
/** A request other than the long-poll unanswered for this long is closed (longer than any model call). */
export const SOCKET_RESPONSE_TIMEOUT_MS = 10 * 60_000;
/** A request must arrive whole within this time; slow senders cannot hold host memory. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The longest final answer a turn may post to its chat. The outbox splits long text into several
 * posts, so a longer reply is cut here, with a notice, rather than becoming a thousand posts.
 */
export const MAX_REPLY_CHARS = 16_000;

/** The reply as it goes to the chat: whole, or cut at MAX_REPLY_CHARS with a notice that says so. */
export function cappedReply(reply: string, max = MAX_REPLY_CHARS): string {
  if (reply.length <= max) return reply;
  return `${reply.slice(0, max)}\n\n(the answer was cut at ${max} characters)`;
}

export interface SocketTiming {
  idleMs?: number;
  stallMs?: number;
  responseTimeoutMs?: number;
  clock?: Clock;
}

/** Told of the answer as the agent writes it; the events are checked for shape, nothing more. */
export type LiveListener = (events: readonly LiveEvent[]) => void;

interface ActiveTurn {
  request: TurnRequest;
  handedOut: boolean;
  onLive?: LiveListener;
  resolve: (r: TurnResult) => void;
  reject: (e: Error) => void;
}

/**
 * One group's Unix socket, the only way out of its container. The group is known from which
 * socket a request came in on, never from anything the agent says.
 */
export class GroupSocketServer {
  private server: Server | undefined;
  private active: ActiveTurn | undefined;
  /** The one waiting long-poll: a newer poll replaces it, so an agent cannot pile them up. */
  private poller: { res: ServerResponse; timer: NodeJS.Timeout } | undefined;
  private readonly slots: ConnectionSlots;
  private reaper: NodeJS.Timeout | undefined;

  constructor(
    readonly group: string,
    readonly socketPath: string,
    private readonly onModel: ModelHandler,
    private readonly onHostTool: HostToolHandler,
    private readonly log: Logger,
    /** The uid that must be able to connect; the socket directory is mounted only for this group. */
    private readonly socketOwnerUid?: number,
    private readonly audit?: AuditSink,
    private readonly timing: SocketTiming = {},
  ) {
    this.slots = new ConnectionSlots({
      max: MAX_SOCKET_CONNECTIONS,
      idleMs: timing.idleMs ?? SOCKET_IDLE_MS,
      stallMs: timing.stallMs ?? SOCKET_WRITE_STALL_MS,
      responseTimeoutMs: timing.responseTimeoutMs ?? SOCKET_RESPONSE_TIMEOUT_MS,
      clock: timing.clock,
    });
  }

  get openConnections(): number {
    return this.slots.open;
  }

  /**
   * Closes connections idle past the idle time, with responses their reader has stopped taking, or
   * with a request unanswered too long (a timer also does this every half idle time).
   */
  reapConnections(): number {
    return this.slots.reap();
  }

  /** Every request the socket refuses is audited, like the proxy's own refusals. */
  private deny(req: IncomingMessage, reason: string): void {
    this.audit?.append({ kind: 'denial', group: this.group, actor: `agent:${this.group}`, detail: { reason, method: req.method, path: (req.url ?? '').slice(0, 200) } });
  }

  async listen(): Promise<void> {
    assertSocketPath(this.socketPath);
    const dir = dirname(this.socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    rmSync(this.socketPath, { force: true });
    const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: 10_000 }, (req, res) => void this.route(req, res));
    const idleMs = this.timing.idleMs ?? SOCKET_IDLE_MS;
    server.keepAliveTimeout = idleMs;
    this.slots.attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    // Only the agent's uid may enter the directory; the socket inside it is then safe to leave connectable.
    chmodSync(dir, 0o700);
    chmodSync(this.socketPath, 0o666);
    if (this.socketOwnerUid !== undefined && process.getuid?.() === 0) {
      chownSync(dir, this.socketOwnerUid, this.socketOwnerUid);
    }
    this.server = server;
    this.reaper = setInterval(() => this.slots.reap(), Math.max(1000, idleMs / 2));
    this.reaper.unref();
  }

  /** Hands a turn to the agent runner and resolves with its result; onLive hears the answer being written. */
  dispatch(request: TurnRequest, onLive?: LiveListener): Promise<TurnResult> {
    if (this.active) return Promise.reject(new Error(`group ${this.group} already has a turn in progress`));
    return new Promise<TurnResult>((resolve, reject) => {
      this.active = { request, handedOut: false, resolve, reject, onLive };
      const waiting = this.takePoller();
      if (waiting) this.handOut(waiting);
    });
  }

  /** The container died or timed out: the turn in progress fails with this reason. */
  abort(reason: Error): void {
    const turn = this.active;
    this.active = undefined;
    turn?.reject(reason);
  }

  async close(): Promise<void> {
    this.abort(new Error('Enclave is shutting down'));
    this.takePoller()?.writeHead(204).end();
    clearInterval(this.reaper);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.socketPath, { force: true });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const isPoll = req.method === 'GET' && path === TURN_PATH;
    const admission = this.slots.startRequest(req.socket, isPoll, (done) => res.once('close', done));
    if (admission === 'pipelined') return this.deny(req, 'pipelined');
    if (admission === 'busy') {
      this.deny(req, 'too_many_requests');
      return sendApiError(res, 503, 'too many requests in flight on this socket; the last slot is kept for the runner', 'too_many_requests');
    }
    try {
      if (isPoll) return this.poll(res);
      if (req.method === 'POST' && path === TURN_RESULT_PATH) return await this.result(req, res);
      if (req.method === 'POST' && path === TURN_LIVE_PATH) return await this.live(req, res);
      if (req.method === 'POST' && path?.startsWith(HOST_TOOLS_PATH)) return await this.hostTool(path.slice(HOST_TOOLS_PATH.length), req, res);
      // Everything else, /v1/... or not, goes to the proxy: it answers and audits unknown paths.
      if (!path?.startsWith('/enclave/')) return await this.onModel(this.group, req, res);
      this.deny(req, 'not_found');
      sendApiError(res, 404, `unknown path ${path}`, 'not_found');
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        this.deny(req, 'body_too_large');
        return sendApiError(res, 413, err.message, 'body_too_large');
      }
      if (err instanceof SyntaxError) {
        this.deny(req, 'invalid_json');
        return sendApiError(res, 400, 'body is not valid JSON', 'invalid_json');
      }
      this.log.error({ group: this.group, err: (err as Error).message }, 'socket request failed');
      sendApiError(res, 500, 'internal error in the Enclave host', 'internal');
    }
  }

  private poll(res: ServerResponse): void {
    if (this.active && !this.active.handedOut) return this.handOut(res);
    const previous = this.takePoller();
    if (previous && !previous.headersSent) previous.writeHead(204).end();
    const timer = setTimeout(() => {
      if (this.poller?.res === res) this.poller = undefined;
      if (!res.headersSent) res.writeHead(204).end();
    }, LONG_POLL_MS);
    this.poller = { res, timer };
    res.on('close', () => {
      clearTimeout(timer);
      if (this.poller?.res === res) this.poller = undefined;
    });
  }

  private takePoller(): ServerResponse | undefined {
    const waiting = this.poller;
    this.poller = undefined;
    if (!waiting) return undefined;
    clearTimeout(waiting.timer);
    return waiting.res.writableEnded || waiting.res.destroyed ? undefined : waiting.res;
  }

  private handOut(res: ServerResponse): void {
    const turn = this.active!;
    turn.handedOut = true;
    sendJson(res, 200, turn.request);
  }

  private async result(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson<TurnResult>(req, 2 * 1024 * 1024);
    const turn = this.active;
    if (!turn || body.turnId !== turn.request.turnId) {
      this.deny(req, 'unknown_turn');
      sendApiError(res, 409, 'no such turn in progress', 'unknown_turn');
      return;
    }
    this.active = undefined;
    res.writeHead(204).end();
    turn.resolve({
      turnId: body.turnId,
      ok: body.ok === true,
      reply: typeof body.reply === 'string' ? cappedReply(body.reply) : '',
      error: typeof body.error === 'string' ? body.error : undefined,
      steps: Number(body.steps) || 0,
    });
  }

  private async live(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson<LiveUpdate>(req, LIVE_BODY_LIMIT);
    const turn = this.active;
    if (!turn || body.turnId !== turn.request.turnId) {
      this.deny(req, 'unknown_turn');
      sendApiError(res, 409, 'no such turn in progress', 'unknown_turn');
      return;
    }
    res.writeHead(204).end();
    const events = Array.isArray(body.events) ? body.events.filter(isLiveEvent) : [];
    if (events.length > 0) turn.onLive?.(events);
  }

  private async hostTool(tool: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson<HostToolRequest>(req, TOOL_BODY_LIMIT);
    const turn = this.active;
    if (!turn || body.turnId !== turn.request.turnId) {
      this.deny(req, 'unknown_turn');
      sendJson(res, 409, { ok: false, error: `${tool} is only allowed during your own turn` } satisfies HostToolResponse);
      return;
    }
    const args = typeof body.args === 'object' && body.args !== null && !Array.isArray(body.args) ? body.args : {};
    sendJson(res, 200, await this.onHostTool(this.group, turn.request.turnId, tool, args));
  }
}

/** Only the shapes of protocol.ts pass; anything else the agent sends is dropped. */
function isLiveEvent(value: unknown): value is LiveEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  switch (event.kind) {
    case 'text':
    case 'progress':
      return typeof event.text === 'string';
    case 'restart':
      return typeof event.reason === 'string';
    case 'discard':
      return true;
    default:
      return false;
  }
}

import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { waitFor } from '../helpers/wait.js';
import { multipartParts, serveBytes, type FileServing } from './file-serving.js';

/**
 * A local Slack for tests, on 127.0.0.1:
 * - the Web API under `apiUrl` (auth.test, chat.postMessage, users.info, conversations.info,
 *   apps.connections.open), recording every call; failures and 429s can be scripted;
 * - a Socket Mode WebSocket server (the URL apps.connections.open hands out) that says hello,
 *   sends events and slash commands as envelopes and collects the acks;
 * - helpers that POST signed Events API requests and slash commands to an HTTP receiver.
 */

export interface FakeSlackOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  botToken?: string;
  appToken?: string;
  signingSecret?: string;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  /** The bearer token the call carried. */
  token: string | undefined;
  at: number;
}

export interface PostedMessage {
  channel: string;
  text: string;
  thread_ts?: string;
  ts: string;
  at: number;
}

/** A file the test shares in a message: served at its url_private to the bot token only. */
export interface FileSpec {
  name: string;
  mimetype?: string;
  data: Buffer;
  /** What the event and files.info state (default: the real size). */
  statedSize?: number;
  serving?: FileServing;
  subtype?: string;
  durationMs?: number;
}

/** A file the bot uploaded with files.uploadV2, once files.completeUploadExternal shared it. */
export interface SlackUpload {
  fileId: string;
  filename: string;
  data: Buffer;
  channel?: string;
  threadTs?: string;
  initialComment?: string;
}

export type SlackEvent = Record<string, unknown> & { type: string; ts?: string };
export type SlashCommandFields = Record<string, string> & { command: string; trigger_id: string };

export interface DeliveryOptions {
  /** Sent as x-slack-retry-num (HTTP) or retry_attempt (Socket Mode). */
  retryNum?: number;
  /** Sign with this secret instead of the right one. */
  signingSecret?: string;
}

export interface HttpResult {
  status: number;
  body: string;
}

interface ScriptedFailure {
  times: number;
  error?: string;
  retryAfterSec?: number;
}

export class FakeSlack {
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly calls: ApiCall[] = [];
  readonly posted: PostedMessage[] = [];
  /** Every chat.update, in order (the message in `posted` shows its latest text). */
  readonly updates: { ts: string; text: string }[] = [];
  /** users.info answers for these ids (id -> display name); others are user_not_found. */
  readonly users = new Map<string, string>();
  /** conversations.info answers for these ids (id -> name); others are channel_not_found. */
  readonly channels = new Map<string, string>();
  /** Files shared by completeUploadExternal, in order. */
  readonly uploads: SlackUpload[] = [];
  /** Paths of file downloads asked for (with the right token or not). */
  readonly fileRequests: string[] = [];
  private readonly files = new Map<string, { info: Record<string, unknown>; data: Buffer; serving: FileServing }>();
  private readonly pendingUploads = new Map<string, { filename: string; data?: Buffer }>();
  /** How many Socket Mode connections were opened so far. */
  socketConnections = 0;
  private readonly sockets = new Set<WebSocket>();
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private readonly failures = new Map<string, ScriptedFailure>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private seq = 0;
  private clock = Math.floor(Date.now() / 1000);

  private constructor(
    private readonly server: Server,
    opts: FakeSlackOptions,
  ) {
    this.botUserId = opts.botUserId ?? 'UENCLAVE1';
    this.botId = opts.botId ?? 'BENCLAVE1';
    this.teamId = opts.teamId ?? 'TFAKE1';
    this.botToken = opts.botToken ?? 'xoxb-fake-bot-token';
    this.appToken = opts.appToken ?? 'xapp-fake-app-token';
    this.signingSecret = opts.signingSecret ?? 'fake-signing-secret-0123456789';
  }

  static async start(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
    const server = createServer();
    const fake = new FakeSlack(server, opts);
    server.on('request', (req, res) => void fake.onRequest(req, res));
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      fake.wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The Web API base URL, with the trailing slash Slack's client expects. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- scripting the Web API ----

  /** The next `times` calls of `method` answer HTTP 429 with Retry-After: retryAfterSec. */
  rateLimit(method: string, retryAfterSec: number, times = 1): void {
    this.failures.set(method, { times, retryAfterSec });
  }

  /** The next `times` calls of `method` answer { ok: false, error }. */
  failNext(method: string, error: string, times = 1): void {
    this.failures.set(method, { times, error });
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the posted messages once at least `count` were posted. */
  waitForPosts(count: number): Promise<PostedMessage[]> {
    return waitFor(`${count} chat.postMessage call(s)`, () => this.posted.length >= count && [...this.posted]);
  }

  // ---- files ----

  /** Stores a file and returns the `files` entry of a file_share message event. */
  addFile(spec: FileSpec): Record<string, unknown> {
    const id = `F${String(++this.seq).padStart(8, '0')}`;
    const url = `http://127.0.0.1:${this.port}/files-pri/${this.teamId}-${id}/${encodeURIComponent(spec.name)}`;
    const info = {
      id,
      name: spec.name,
      mimetype: spec.mimetype,
      size: spec.statedSize ?? spec.data.length,
      url_private: url,
      url_private_download: `${url}?download=1`,
      ...(spec.subtype !== undefined && { subtype: spec.subtype }),
      ...(spec.durationMs !== undefined && { duration_ms: spec.durationMs }),
    };
    this.files.set(id, { info, data: spec.data, serving: spec.serving ?? 'normal' });
    return info;
  }

  waitForUpload(n = 1): Promise<SlackUpload> {
    return waitFor(`upload ${n} to the fake Slack`, () => this.uploads[n - 1]);
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, path: string): void {
    this.fileRequests.push(path);
    if (req.headers.authorization !== `Bearer ${this.botToken}`) return void res.writeHead(403).end();
    const id = /^\/files-pri\/[^/]+-(F\d+)\//.exec(path)?.[1];
    const file = id ? this.files.get(id) : undefined;
    if (!file) return void res.writeHead(404).end();
    serveBytes(res, file.data, file.serving);
  }

  /** The upload step of files.uploadV2: the bytes for a getUploadURLExternal file id. */
  private takeUpload(raw: Buffer, contentType: string | undefined, fileId: string, res: ServerResponse): void {
    const pending = this.pendingUploads.get(fileId);
    if (!pending) return void res.writeHead(404).end();
    const part = contentType?.startsWith('multipart/form-data') ? multipartParts(raw, contentType)[0] : undefined;
    pending.data = part ? part.data : raw;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${pending.data.length}`);
  }

  private completeUploads(params: Record<string, unknown>): Record<string, unknown> {
    const listed = parseJsonArray(params.files);
    const done: SlackUpload[] = [];
    for (const f of listed) {
      const pending = this.pendingUploads.get(String(f.id));
      if (!pending?.data) return { ok: false, error: 'file_not_found' };
      done.push({
        fileId: String(f.id),
        filename: pending.filename,
        data: pending.data,
        ...(typeof params.channel_id === 'string' && { channel: params.channel_id }),
        ...(typeof params.thread_ts === 'string' && { threadTs: params.thread_ts }),
        ...(typeof params.initial_comment === 'string' && { initialComment: params.initial_comment }),
      });
    }
    this.uploads.push(...done);
    return { ok: true, files: done.map((d) => ({ id: d.fileId, title: d.filename })) };
  }

  // ---- building events ----

  /** A fresh message timestamp ("seconds.micros"), increasing. */
  nextTs(): string {
    this.seq++;
    return `${this.clock}.${String(this.seq).padStart(6, '0')}`;
  }

  /** A `message` event; ts defaults to a fresh one. Add channel_type 'im' for a DM. */
  message(fields: { channel: string; user?: string; text: string } & Record<string, unknown>): SlackEvent {
    const ts = typeof fields.ts === 'string' ? fields.ts : this.nextTs();
    return { type: 'message', channel_type: 'channel', ...fields, ts, event_ts: ts, team: this.teamId };
  }

  /** An `app_mention` event (text should contain <@botUserId>). */
  appMention(fields: { channel: string; user: string; text: string } & Record<string, unknown>): SlackEvent {
    const ts = typeof fields.ts === 'string' ? fields.ts : this.nextTs();
    return { type: 'app_mention', ...fields, ts, event_ts: ts, team: this.teamId };
  }

  /** Slash command form fields, with a fresh trigger_id. */
  slashCommand(fields: { command: string; text: string; channel_id: string; user_id: string } & Record<string, string>): SlashCommandFields {
    const n = ++this.seq;
    return {
      token: 'legacy-verification-token',
      team_id: this.teamId,
      team_domain: 'fake',
      channel_name: 'general',
      user_name: fields.user_id.toLowerCase(),
      api_app_id: 'AFAKE1',
      response_url: `http://127.0.0.1:${this.port}/response/${n}`,
      trigger_id: `${n}.${this.clock}.trigger`,
      ...fields,
    };
  }

  /** The Events API body Slack wraps an event in. */
  eventCallback(event: SlackEvent): Record<string, unknown> {
    return {
      token: 'legacy-verification-token',
      team_id: this.teamId,
      api_app_id: 'AFAKE1',
      event,
      type: 'event_callback',
      event_id: `Ev${event.ts ?? this.nextTs()}`.replace('.', ''),
      event_time: this.clock,
      authorizations: [{ enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false }],
    };
  }

  // ---- Events API over HTTP ----

  /** POSTs a signed Events API request (the event is wrapped with eventCallback()) to a receiver URL. */
  postEvent(url: string, event: SlackEvent, opts: DeliveryOptions = {}): Promise<HttpResult> {
    return this.postSigned(url, JSON.stringify(this.eventCallback(event)), 'application/json', opts);
  }

  /** POSTs a signed slash command (form-encoded) to a receiver URL. */
  postCommand(url: string, fields: SlashCommandFields, opts: DeliveryOptions = {}): Promise<HttpResult> {
    return this.postSigned(url, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', opts);
  }

  private async postSigned(url: string, body: string, contentType: string, opts: DeliveryOptions): Promise<HttpResult> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = 'v0=' + createHmac('sha256', opts.signingSecret ?? this.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    };
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, body: await res.text() };
  }

  // ---- Socket Mode ----

  /** Resolves once `count` Socket Mode connections were opened and one is open now. */
  async waitForSocket(count = 1): Promise<void> {
    await waitFor(`${count} Socket Mode connection(s)`, () => this.socketConnections >= count && this.sockets.size > 0);
  }

  /** Sends an event over every open socket as an events_api envelope; resolves with the ack. */
  sendSocketEvent(event: SlackEvent, opts: DeliveryOptions = {}): Promise<unknown> {
    return this.sendEnvelope({
      type: 'events_api',
      payload: this.eventCallback(event),
      accepts_response_payload: false,
      retry_attempt: opts.retryNum ?? 0,
      retry_reason: opts.retryNum ? 'timeout' : '',
    });
  }

  /** Sends a slash command envelope; resolves with the ack's payload. */
  sendSocketCommand(fields: SlashCommandFields): Promise<unknown> {
    return this.sendEnvelope({ type: 'slash_commands', payload: fields, accepts_response_payload: true });
  }

  /** Cuts every open socket without a close handshake, as a network drop would. */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  private sendEnvelope(envelope: Record<string, unknown>): Promise<unknown> {
    if (this.sockets.size === 0) return Promise.reject(new Error('no Socket Mode connection is open'));
    const envelopeId = `env-${++this.seq}`;
    const acked = new Promise<unknown>((resolve) => this.acks.set(envelopeId, resolve));
    const frame = JSON.stringify({ envelope_id: envelopeId, ...envelope });
    for (const ws of this.sockets) ws.send(frame);
    return acked;
  }

  private onSocket(ws: WebSocket): void {
    this.socketConnections++;
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const ack = parseJson(String(data));
      const id = typeof ack.envelope_id === 'string' ? ack.envelope_id : undefined;
      if (id) this.acks.get(id)?.(ack.payload);
      if (id) this.acks.delete(id);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, connection_info: { app_id: 'AFAKE1' } }));
  }

  // ---- the Web API ----

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const raw = body.toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) return this.serveFile(req, res, url.pathname);
    const upload = /^\/upload\/(F\w+)$/.exec(url.pathname);
    if (upload) return this.takeUpload(body, req.headers['content-type'], upload[1]!, res);
    if (!url.pathname.startsWith('/api/')) return reply(res, 200, { ok: true });
    const method = url.pathname.slice('/api/'.length);
    const params = parseParams(raw, req.headers['content-type']);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof params.token === 'string' ? params.token : undefined);
    this.calls.push({ method, params, token, at: Date.now() });

    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times--;
      if (failure.retryAfterSec !== undefined) return reply(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfterSec) });
      return reply(res, 200, { ok: false, error: failure.error });
    }
    return reply(res, 200, this.answer(method, params, token));
  }

  private answer(method: string, params: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (method === 'apps.connections.open') {
      return token === this.appToken ? { ok: true, url: `ws://127.0.0.1:${this.port}/socket?ticket=${++this.seq}` } : { ok: false, error: 'invalid_auth' };
    }
    if (token !== this.botToken) return { ok: false, error: 'invalid_auth' };
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'enclave', team_id: this.teamId, user_id: this.botUserId, bot_id: this.botId };
      case 'chat.postMessage': {
        const ts = this.nextTs();
        const channel = String(params.channel);
        const text = String(params.text ?? '');
        const thread = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
        this.posted.push({ channel, text, ts, at: Date.now(), ...(thread ? { thread_ts: thread } : {}) });
        return { ok: true, channel, ts, message: { type: 'message', user: this.botUserId, bot_id: this.botId, text, ts } };
      }
      case 'chat.update': {
        const ts = String(params.ts);
        const message = this.posted.find((m) => m.ts === ts && m.channel === String(params.channel));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(params.text ?? '');
        this.updates.push({ ts, text: message.text });
        return { ok: true, channel: message.channel, ts, text: message.text };
      }
      case 'users.info': {
        const name = this.users.get(String(params.user));
        return name ? { ok: true, user: { id: params.user, name, real_name: name, profile: { display_name: name } } } : { ok: false, error: 'user_not_found' };
      }
      case 'files.info': {
        const file = this.files.get(String(params.file));
        return file ? { ok: true, file: file.info } : { ok: false, error: 'file_not_found' };
      }
      case 'files.getUploadURLExternal': {
        const fileId = `F${String(++this.seq).padStart(8, '0')}`;
        this.pendingUploads.set(fileId, { filename: String(params.filename) });
        return { ok: true, upload_url: `http://127.0.0.1:${this.port}/upload/${fileId}`, file_id: fileId };
      }
      case 'files.completeUploadExternal':
        return this.completeUploads(params);
      case 'conversations.info': {
        const name = this.channels.get(String(params.channel));
        return name ? { ok: true, channel: { id: params.channel, name } } : { ok: false, error: 'channel_not_found' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseJsonArray(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value as Record<string, unknown>[];
  try {
    const parsed: unknown = JSON.parse(String(value));
    return Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [];
  } catch {
    return [];
  }
}

function parseParams(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return parseJson(raw);
  return Object.fromEntries(new URLSearchParams(raw));
}

function parseJson(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

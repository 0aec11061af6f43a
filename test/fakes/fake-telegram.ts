import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BotCommand, MessageEntity } from 'grammy/types';
import { waitFor } from '../helpers/wait.js';
import { multipartParts, serveBytes, type FileServing } from './file-serving.js';

export interface FakeUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
}

export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup' | 'channel';
  title?: string;
  first_name?: string;
}

/** A message as the test writes it; the fake fills message_id, date, from and entities. */
export interface FakeMessageInput {
  chat: FakeChat;
  from?: FakeUser;
  text?: string;
  caption?: string;
  /** Omit to let the fake find @mentions and a leading /command, as Telegram's server does. */
  entities?: MessageEntity[];
  caption_entities?: MessageEntity[];
  reply_to_message?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface FakeUpdate {
  update_id: number;
  [kind: string]: unknown;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
}

export interface SentMessage {
  message_id: number;
  chatId: string;
  text: string;
  parseMode?: string;
  /** reply_parameters.message_id or reply_to_message_id. */
  replyTo?: number;
  params: Record<string, unknown>;
  at: number;
}

/** A file uploaded with sendPhoto, sendDocument, sendVoice or sendAudio. */
export interface Upload {
  method: string;
  chatId: string;
  field: string;
  fileName: string;
  data: Buffer;
  caption?: string;
  params: Record<string, unknown>;
}

interface StoredFile {
  path: string;
  data: Buffer;
  statedSize?: number;
  serving: FileServing;
}

export interface TelegramApiError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

/** The user messages come from unless a test says otherwise. */
export const ALICE: FakeUser = { id: 4201, is_bot: false, first_name: 'Alice', username: 'alice' };

const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'span', 'tg-spoiler', 'blockquote']);

/**
 * A Telegram Bot API server on 127.0.0.1 for grammy's `client.apiRoot`: routes
 * /bot<token>/<method>, answers a wrong token with 401, long-polls getUpdates honouring
 * offset (updates below it are confirmed and dropped) and timeout, records everything the bot
 * sends, and can be told to fail in the ways Telegram does.
 */
export class FakeTelegram {
  readonly bot: FakeUser & { username: string } = { id: 7_700_001, is_bot: true, first_name: 'Enclave', username: 'enclave_test_bot' };
  readonly calls: ApiCall[] = [];
  readonly sent: SentMessage[] = [];
  readonly chatActions: { chatId: string; action: string }[] = [];
  readonly uploads: Upload[] = [];
  /** Paths the file server was asked for. */
  readonly fileRequests: string[] = [];
  private readonly files = new Map<string, StoredFile>();
  /** The last setMyCommands list. */
  commands: BotCommand[] | undefined;
  /** Set by setWebhook, cleared by deleteWebhook. */
  webhook: { url: string; secretToken?: string } | undefined;
  /** The highest offset a getUpdates confirmed. */
  confirmedOffset = 0;
  private readonly pending: FakeUpdate[] = [];
  private waitingPoll: { res: ServerResponse; timer: NodeJS.Timeout } | undefined;
  private readonly sendFailures: TelegramApiError[] = [];
  private readonly pollFailures: ('drop' | 'conflict')[] = [];
  private rejectHtml = 0;
  private stalledSends = 0;
  private nextUpdateId = 100_001;
  private nextMessageId = 1;
  private server: Server | undefined;

  private constructor(readonly token: string) {}

  static async start(token = '123456:fake-telegram-token'): Promise<FakeTelegram> {
    const fake = new FakeTelegram(token);
    fake.server = createServer((req, res) => void fake.route(req, res));
    await new Promise<void>((r) => fake.server!.listen(0, '127.0.0.1', r));
    return fake;
  }

  /** The value for channels.telegram.apiRoot. */
  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Queues a raw update (message, edited_message, ...) for getUpdates; returns its update_id. */
  pushUpdate(update: Omit<FakeUpdate, 'update_id'>): number {
    const full = { ...update, update_id: this.nextUpdateId++ };
    this.pending.push(full);
    this.answerWaitingPoll();
    return full.update_id;
  }

  /** Queues a message from a user; returns the ids the bot will see. */
  pushMessage(input: FakeMessageInput): { updateId: number; messageId: number } {
    const message: Record<string, unknown> = { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), from: ALICE, ...input };
    if (input.text !== undefined && !input.entities) message.entities = findEntities(input.text);
    if (input.caption !== undefined && !input.caption_entities) message.caption_entities = findEntities(input.caption);
    const updateId = this.pushUpdate({ message });
    return { updateId, messageId: message.message_id as number };
  }

  /** Makes a file downloadable by its file_id (getFile + /file/bot<token>/<path>); statedSize is what getFile claims. */
  addFile(fileId: string, data: Buffer, opts: { statedSize?: number; serving?: FileServing; path?: string } = {}): void {
    this.files.set(fileId, { path: opts.path ?? `files/${this.files.size}-${fileId.slice(0, 8)}`, data, statedSize: opts.statedSize, serving: opts.serving ?? 'normal' });
  }

  /** Update ids queued and not yet confirmed by an offset. */
  pendingUpdateIds(): number[] {
    return this.pending.map((u) => u.update_id);
  }

  /** The next sendMessage calls fail with these Telegram errors, one each. */
  failNextSends(...errors: TelegramApiError[]): void {
    this.sendFailures.push(...errors);
  }

  /** The next `count` sendMessage calls are taken and never answered, as by a hung Bot API server. */
  stallNextSends(count: number): void {
    this.stalledSends += count;
  }

  /** The next sendMessage answers 429 with parameters.retry_after. */
  rateLimitNextSend(retryAfterSeconds: number): void {
    this.failNextSends({ error_code: 429, description: `Too Many Requests: retry after ${retryAfterSeconds}`, parameters: { retry_after: retryAfterSeconds } });
  }

  /** The next sendMessage with parse_mode HTML answers 400 "can't parse entities", even if the HTML is fine. */
  rejectNextHtml(): void {
    this.rejectHtml++;
  }

  /** The next `count` getUpdates calls lose their connection (a network failure for the client). */
  dropNextPolls(count: number): void {
    for (let i = 0; i < count; i++) this.pollFailures.push('drop');
  }

  /** The next `count` getUpdates calls answer 409 Conflict, as when another instance polls. */
  conflictNextPolls(count: number): void {
    for (let i = 0; i < count; i++) this.pollFailures.push('conflict');
  }

  callsTo(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the n-th (1-based) message the bot sent. */
  waitForSent(n = 1): Promise<SentMessage> {
    return waitFor(`message ${n} sent to the fake Telegram`, () => this.sent[n - 1]);
  }

  /** Resolves with the n-th (1-based) call of an API method. */
  waitForCall(method: string, n = 1): Promise<ApiCall> {
    return waitFor(`${method} call ${n} on the fake Telegram`, () => this.callsTo(method)[n - 1]);
  }

  async close(): Promise<void> {
    if (this.waitingPoll) clearTimeout(this.waitingPoll.timer);
    this.waitingPoll = undefined;
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const filePath = /^\/file\/bot([^/]+)\/(.+)$/.exec(new URL(req.url ?? '/', 'http://fake').pathname);
    if (filePath) return this.serveFile(filePath[1]!, decodeURIComponent(filePath[2]!), res);
    const params = await readParams(req);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://fake').pathname);
    if (!match) return reply(res, { error_code: 404, description: 'Not Found' });
    if (match[1] !== this.token) return reply(res, { error_code: 401, description: 'Unauthorized' });
    const method = match[2]!;
    this.calls.push({ method, params, at: Date.now() });
    switch (method) {
      case 'getMe':
        return reply(res, this.bot);
      case 'deleteWebhook':
        this.webhook = undefined;
        return reply(res, true);
      case 'setWebhook':
        this.webhook = { url: String(params.url), secretToken: params.secret_token as string | undefined };
        return reply(res, true);
      case 'setMyCommands':
        this.commands = params.commands as BotCommand[];
        return reply(res, true);
      case 'sendChatAction':
        this.chatActions.push({ chatId: String(params.chat_id), action: String(params.action) });
        return reply(res, true);
      case 'sendMessage':
        if (this.stalledSends > 0) return void this.stalledSends--;
        return reply(res, this.sendMessage(params));
      case 'editMessageText': {
        const answer = this.editMessageText(params);
        const gate = this.editGate;
        this.editGate = undefined;
        if (gate) await gate;
        return reply(res, answer);
      }
      case 'getUpdates':
        return this.getUpdates(params, req, res);
      case 'getFile': {
        const file = this.files.get(String(params.file_id));
        if (!file) return reply(res, { error_code: 400, description: 'Bad Request: invalid file_id' });
        return reply(res, { file_id: params.file_id, file_unique_id: `u-${String(params.file_id).slice(0, 8)}`, file_size: file.statedSize ?? file.data.length, file_path: file.path });
      }
      case 'sendPhoto':
      case 'sendDocument':
      case 'sendVoice':
      case 'sendAudio':
        return reply(res, this.upload(method, params));
      default:
        return reply(res, { error_code: 404, description: 'Not Found: method not found' });
    }
  }

  private serveFile(token: string, path: string, res: ServerResponse): void {
    if (token !== this.token) return void res.writeHead(401).end();
    this.fileRequests.push(path);
    const file = [...this.files.values()].find((f) => f.path === path);
    if (!file) return void res.writeHead(404).end();
    serveBytes(res, file.data, file.serving);
  }

  private upload(method: string, params: Record<string, unknown>): unknown {
    const failure = this.sendFailures.shift();
    if (failure) return failure;
    const field = { sendPhoto: 'photo', sendDocument: 'document', sendVoice: 'voice', sendAudio: 'audio' }[method]!;
    const ref = params[field];
    // A multipart upload names its file part: "attach://<part>".
    const file = typeof ref === 'string' && ref.startsWith('attach://') ? params[ref.slice('attach://'.length)] : ref;
    if (!(file instanceof UploadedFile)) return { error_code: 400, description: `Bad Request: there is no ${field} in the request` };
    const chatId = String(params.chat_id);
    this.uploads.push({ method, chatId, field, fileName: file.name, data: file.data, caption: params.caption as string | undefined, params });
    return { message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), from: this.bot, chat: { id: Number(chatId), type: Number(chatId) < 0 ? 'supergroup' : 'private' } };
  }

  /** Resolves with the n-th (1-based) file the bot uploaded. */
  waitForUpload(n = 1): Promise<Upload> {
    return waitFor(`upload ${n} to the fake Telegram`, () => this.uploads[n - 1]);
  }

  private sendMessage(params: Record<string, unknown>): unknown {
    const failure = this.sendFailures.shift();
    if (failure) return failure;
    const text = String(params.text ?? '');
    const parseMode = params.parse_mode as string | undefined;
    if (parseMode === 'HTML') {
      const problem = this.rejectHtml > 0 ? 'Unsupported start tag "x" at byte offset 0' : htmlProblem(text);
      if (this.rejectHtml > 0) this.rejectHtml--;
      if (problem) return { error_code: 400, description: `Bad Request: can't parse entities: ${problem}` };
    }
    const visible = parseMode === 'HTML' ? visibleText(text) : text;
    if (visible.trim() === '') return { error_code: 400, description: 'Bad Request: message text is empty' };
    if (visible.length > 4096) return { error_code: 400, description: 'Bad Request: message is too long' };
    const replyParams = params.reply_parameters as { message_id?: number } | undefined;
    const replyTo = replyParams?.message_id ?? (params.reply_to_message_id as number | undefined);
    const sent: SentMessage = { message_id: this.nextMessageId++, chatId: String(params.chat_id), text, parseMode, replyTo, params, at: Date.now() };
    this.sent.push(sent);
    this.current.set(sent.message_id, visible);
    const chatId = Number(params.chat_id);
    return { message_id: sent.message_id, date: Math.floor(sent.at / 1000), from: this.bot, chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' }, text: visible };
  }

  /** Messages as they read now (after edits), by message_id. */
  readonly current = new Map<number, string>();
  /** Every successful edit, in order. */
  readonly edits: { messageId: number; text: string }[] = [];
  private readonly editFailures: TelegramApiError[] = [];

  private editGate: Promise<void> | undefined;

  /** The next editMessageText is handled when it arrives but answered only once the returned function is called. */
  holdNextEditAnswer(): () => void {
    let release!: () => void;
    this.editGate = new Promise<void>((r) => (release = r));
    return release;
  }

  /** The next editMessageText calls fail with these Telegram errors, one each. */
  failNextEdits(...errors: TelegramApiError[]): void {
    this.editFailures.push(...errors);
  }

  private editMessageText(params: Record<string, unknown>): unknown {
    const failure = this.editFailures.shift();
    if (failure) return failure;
    const messageId = Number(params.message_id);
    const before = this.current.get(messageId);
    if (before === undefined) return { error_code: 400, description: 'Bad Request: message to edit not found' };
    const text = String(params.text ?? '');
    const visible = params.parse_mode === 'HTML' ? visibleText(text) : text;
    if (visible.trim() === '') return { error_code: 400, description: 'Bad Request: message text is empty' };
    if (visible.length > 4096) return { error_code: 400, description: 'Bad Request: MESSAGE_TOO_LONG' };
    if (visible === before) return { error_code: 400, description: 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message' };
    this.current.set(messageId, visible);
    this.edits.push({ messageId, text: visible });
    const chatId = Number(params.chat_id);
    return { message_id: messageId, date: Math.floor(Date.now() / 1000), from: this.bot, chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' }, text: visible };
  }

  private getUpdates(params: Record<string, unknown>, req: IncomingMessage, res: ServerResponse): void {
    const failure = this.pollFailures.shift();
    if (failure === 'drop') return void req.socket.destroy();
    if (failure === 'conflict') {
      return reply(res, { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' });
    }
    const offset = Number(params.offset ?? 0);
    if (offset > 0) {
      this.confirmedOffset = Math.max(this.confirmedOffset, offset);
      while (this.pending.length && this.pending[0]!.update_id < offset) this.pending.shift();
    }
    if (this.waitingPoll) {
      clearTimeout(this.waitingPoll.timer);
      reply(this.waitingPoll.res, { error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' });
      this.waitingPoll = undefined;
    }
    const timeoutSeconds = Number(params.timeout ?? 0);
    if (this.pending.length > 0 || timeoutSeconds <= 0) return reply(res, this.pending.slice(0, 100));
    const timer = setTimeout(() => this.answerWaitingPoll(), timeoutSeconds * 1000);
    this.waitingPoll = { res, timer };
    res.on('close', () => {
      if (this.waitingPoll?.res !== res) return;
      clearTimeout(timer);
      this.waitingPoll = undefined;
    });
  }

  private answerWaitingPoll(): void {
    const poll = this.waitingPoll;
    if (!poll) return;
    clearTimeout(poll.timer);
    this.waitingPoll = undefined;
    reply(poll.res, this.pending.slice(0, 100));
  }
}

function reply(res: ServerResponse, result: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const isError = typeof result === 'object' && result !== null && 'error_code' in result;
  const body = isError ? { ok: false, ...(result as TelegramApiError) } : { ok: true, result };
  res.writeHead(isError ? (result as TelegramApiError).error_code : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A file part of a multipart request. */
class UploadedFile {
  constructor(
    readonly name: string,
    readonly data: Buffer,
  ) {}
}

async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const query = Object.fromEntries(new URL(req.url ?? '/', 'http://fake').searchParams);
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const params: Record<string, unknown> = { ...query };
    for (const part of multipartParts(body, type)) {
      params[part.name] = part.fileName === undefined ? parseField(part.data.toString('utf8')) : new UploadedFile(part.fileName, part.data);
    }
    return params;
  }
  const raw = body.toString('utf8');
  return raw ? { ...query, ...(JSON.parse(raw) as Record<string, unknown>) } : query;
}

/** grammy sends nested values of a multipart request as JSON text. */
function parseField(value: string): unknown {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' ? parsed : value;
  } catch {
    return value;
  }
}

/** Telegram's server marks a leading /command and every @username. */
function findEntities(text: string): MessageEntity[] {
  const entities: MessageEntity[] = [];
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
  for (const m of text.matchAll(/(^|[^\w@/])@([A-Za-z0-9_]{3,})/g)) {
    entities.push({ type: 'mention', offset: m.index + m[1]!.length, length: m[2]!.length + 1 });
  }
  return entities;
}

/** Why Telegram would refuse this HTML, or undefined: unknown tags, unbalanced tags, bare & or <. */
function htmlProblem(html: string): string | undefined {
  const open: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z-]+)(\s[^>]*)?>|&(#?\w+);|[<&]/g)) {
    if (m[0] === '<' || m[0] === '&') return `Unexpected ${m[0]} at byte offset ${m.index}`;
    if (m[4] !== undefined) {
      if (!['lt', 'gt', 'amp', 'quot'].includes(m[4]) && !m[4].startsWith('#')) return `Unsupported entity &${m[4]};`;
      continue;
    }
    const tag = m[2]!;
    if (!HTML_TAGS.has(tag)) return `Unsupported start tag "${tag}"`;
    if (!m[1]) open.push(tag);
    else if (open.pop() !== tag) return `Unmatched end tag "${tag}"`;
  }
  return open.length ? `Can't find end tag corresponding to start tag "${open.at(-1)}"` : undefined;
}

/** What a person sees of a message sent with parse_mode HTML. */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolCallSpec {
  name: string;
  /** Sent as-is: pass a non-JSON string to test how the agent copes. */
  arguments: string;
}

/** How an answer is delivered; every field is optional. */
export interface AnswerOptions {
  /** Wait before answering at all. */
  delayMs?: number;
  /** The `usage` object sent (any field names); null sends none. Default: 12 prompt + 5 completion tokens. */
  usage?: Record<string, unknown> | null;
  /** Streams only: pause between chunks. */
  chunkDelayMs?: number;
  /** Streams only: after the first chunk, send nothing more until this settles. */
  holdAfterFirstChunk?: Promise<unknown>;
  /** Streams only: destroy the connection after this many chunks, mid-answer. */
  cutAfterChunks?: number;
  /** Streams only: a usage event sent before the answer (a prompt-only or running count). */
  earlyUsage?: Record<string, unknown>;
  /** Streams only: the answer's text split into these pieces instead of 8-character ones. */
  pieces?: string[];
}

/** One scripted answer: text, tool calls, an HTTP error, or a connection dropped without an answer. */
export type ScriptedReply =
  | ({ content: string } & AnswerOptions)
  | ({ toolCalls: ToolCallSpec[] } & AnswerOptions)
  | { status: number; body: unknown; delayMs?: number }
  /** A 200 answer written in exactly these pieces, with a pause between them (to split bytes anywhere). */
  | { raw: string[]; contentType: string; chunkDelayMs?: number; delayMs?: number }
  | { dropConnection: true; delayMs?: number };

export type TranscriptionReply = { text: string; duration?: number; usage?: Record<string, unknown> } | { status: number; body: unknown };

export interface RecordedTranscription {
  headers: IncomingMessage['headers'];
  model: string;
  responseFormat: string;
  fileName: string;
  fileType: string;
  audio: Buffer;
}

type AnswerReply = Extract<ScriptedReply, { content: string } | { toolCalls: ToolCallSpec[] }>;

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** Ids and `created` of answers: a counter and a fixed time, not the wall clock. */
let answers = 0;
const CREATED = 1_900_000_000;

export const DEFAULT_USAGE = Object.freeze({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });

/**
 * A scripted OpenAI-compatible server on 127.0.0.1: answers /v1/chat/completions from a queue
 * per model, then a shared queue, then a function; streams when asked (usage only when
 * stream_options.include_usage is set, as OpenAI does), and records every request it saw.
 */
export class FakeModel {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedReply[] = [];
  private readonly modelScripts = new Map<string, ScriptedReply[]>();
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  fallback: (req: RecordedRequest) => ScriptedReply = () => ({ content: 'fake model reply' });
  /** What GET /v1/models lists (and the key it wants, when set); undefined answers 404 like a server without the list. */
  served: { ids: string[]; key?: string } | undefined;

  static async start(): Promise<FakeModel> {
    const fake = new FakeModel();
    fake.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/models') return fake.listModels(req.headers.authorization, res);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if ((req.url ?? '').startsWith('/v1/audio/transcriptions')) return void fake.transcribe(req, Buffer.concat(chunks), res);
        const raw = Buffer.concat(chunks).toString('utf8');
        const record: RecordedRequest = { path: req.url ?? '', headers: req.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
        fake.requests.push(record);
        const reply = fake.modelScripts.get(String(record.body.model))?.shift() ?? fake.script.shift() ?? fake.fallback(record);
        fake.later(reply.delayMs ?? 0, () => void fake.answer(record, reply, res));
      });
    });
    await new Promise<void>((r) => fake.server!.listen(0, '127.0.0.1', r));
    return fake;
  }

  /** Answers of POST /v1/audio/transcriptions, in order; then `{ text: 'fake transcript', duration: 3 }`. */
  readonly transcriptionScript: TranscriptionReply[] = [];
  readonly transcriptions: RecordedTranscription[] = [];

  private async transcribe(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    // Parsed the way a provider does (the multipart body as the client sent it).
    const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': String(req.headers['content-type']) }, body: new Uint8Array(body) }).formData();
    const file = form.get('file');
    const audio = file instanceof Blob ? Buffer.from(await file.arrayBuffer()) : Buffer.alloc(0);
    this.transcriptions.push({
      headers: req.headers,
      model: String(form.get('model')),
      responseFormat: String(form.get('response_format')),
      fileName: file instanceof File ? file.name : '',
      fileType: file instanceof Blob ? file.type : '',
      audio,
    });
    const reply = this.transcriptionScript.shift() ?? { text: 'fake transcript', duration: 3 };
    if ('status' in reply) return void res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ task: 'transcribe', language: 'english', ...reply }));
  }

  private listModels(authorization: string | undefined, res: ServerResponse): void {
    const served = this.served;
    const status = !served ? 404 : served.key && authorization !== `Bearer ${served.key}` ? 401 : 200;
    const body = status === 200 ? { object: 'list', data: served!.ids.map((id) => ({ id, object: 'model', owned_by: 'fake' })) } : { error: { message: 'no' } };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  push(...replies: ScriptedReply[]): void {
    this.script.push(...replies);
  }

  /** Replies used only for requests naming this model, before the shared queue. */
  pushFor(model: string, ...replies: ScriptedReply[]): void {
    const queue = this.modelScripts.get(model) ?? [];
    queue.push(...replies);
    this.modelScripts.set(model, queue);
  }

  requestsFor(model: string): RecordedRequest[] {
    return this.requests.filter((r) => r.body.model === model);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private later(ms: number, run: () => void): void {
    if (ms <= 0) return run();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(ms, resolve));
  }

  private async answer(record: RecordedRequest, reply: ScriptedReply, res: ServerResponse): Promise<void> {
    if ('dropConnection' in reply) {
      res.socket?.destroy();
      return;
    }
    if ('raw' in reply) {
      res.writeHead(200, { 'content-type': reply.contentType });
      for (const [i, piece] of reply.raw.entries()) {
        if (i > 0) await this.pause(reply.chunkDelayMs ?? 0);
        await new Promise<void>((flushed) => res.write(piece, () => flushed()));
      }
      res.end();
      return;
    }
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      return;
    }
    const model = String(record.body.model ?? 'fake');
    const usage = reply.usage === undefined ? DEFAULT_USAGE : reply.usage;
    if (!record.body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(model, reply, usage)));
      return;
    }
    const includeUsage = (record.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    await this.stream(res, streamEvents(model, reply, includeUsage ? usage : null), reply);
  }

  private async stream(res: ServerResponse, events: string[], reply: AnswerOptions): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const [i, event] of events.entries()) {
      if (i > 0 && reply.chunkDelayMs) await this.pause(reply.chunkDelayMs);
      if (res.destroyed) return;
      await new Promise<void>((flushed) => res.write(event, () => flushed()));
      if (i === 0 && reply.holdAfterFirstChunk) await reply.holdAfterFirstChunk;
      if (reply.cutAfterChunks !== undefined && i + 1 >= reply.cutAfterChunks) {
        res.socket?.destroy();
        return;
      }
    }
    res.end();
  }
}

function message(reply: AnswerReply) {
  if ('content' in reply) return { role: 'assistant', content: reply.content };
  return {
    role: 'assistant',
    content: null,
    tool_calls: reply.toolCalls.map((t, i) => ({ id: `call_${i}_${++answers}`, type: 'function', function: { name: t.name, arguments: t.arguments } })),
  };
}

function completion(model: string, reply: AnswerReply, usage: Record<string, unknown> | null) {
  return {
    id: `chatcmpl-${++answers}`,
    object: 'chat.completion',
    created: CREATED,
    model,
    choices: [{ index: 0, message: message(reply), finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }],
    ...(usage ? { usage } : {}),
  };
}

/** The SSE events of one streamed answer, each a complete `data:` event. */
function streamEvents(model: string, reply: AnswerReply, usage: Record<string, unknown> | null): string[] {
  const base = { id: `chatcmpl-${++answers}`, object: 'chat.completion.chunk', created: CREATED, model };
  const event = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
  const events: string[] = [];
  if (reply.earlyUsage) events.push(event({ ...base, choices: [], usage: reply.earlyUsage }));
  if ('content' in reply) {
    for (const piece of reply.pieces ?? reply.content.match(/.{1,8}/gs) ?? ['']) events.push(event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }));
  } else {
    const calls = message(reply).tool_calls ?? [];
    events.push(event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: calls.map((t, index) => ({ index, ...t })) }, finish_reason: null }] }));
  }
  events.push(event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }] }));
  if (usage) events.push(event({ ...base, choices: [], usage }));
  events.push('data: [DONE]\n\n');
  return events;
}

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolCallSpec {
  name: string;
  /** Sent as-is: pass a non-JSON string to test how the agent copes. */
  arguments: string;
}

/** One scripted answer: text, tool calls, an HTTP error, or a custom status + body. */
export type ScriptedReply =
  | { content: string; delayMs?: number }
  | { toolCalls: ToolCallSpec[]; delayMs?: number }
  | { status: number; body: unknown };

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/**
 * A scripted OpenAI-compatible server on 127.0.0.1: answers /v1/chat/completions from a queue
 * (or a function), streams when asked, and records every request it saw.
 */
export class FakeModel {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedReply[] = [];
  private server: Server | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  fallback: (req: RecordedRequest) => ScriptedReply = () => ({ content: 'fake model reply' });

  static async start(): Promise<FakeModel> {
    const fake = new FakeModel();
    fake.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const record: RecordedRequest = { path: req.url ?? '', headers: req.headers, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
        fake.requests.push(record);
        const reply = fake.script.shift() ?? fake.fallback(record);
        const delay = 'delayMs' in reply ? (reply.delayMs ?? 0) : 0;
        const timer = setTimeout(() => {
          fake.timers.delete(timer);
          if ('status' in reply) {
            res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
            return;
          }
          const model = String(record.body.model ?? 'fake');
          if (record.body.stream) writeStream(res, model, reply);
          else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion(model, reply)));
        }, delay);
        fake.timers.add(timer);
      });
    });
    await new Promise<void>((r) => fake.server!.listen(0, '127.0.0.1', r));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  push(...replies: ScriptedReply[]): void {
    this.script.push(...replies);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

type AnswerReply = Exclude<ScriptedReply, { status: number }>;

function message(reply: AnswerReply) {
  if ('content' in reply) return { role: 'assistant', content: reply.content };
  return {
    role: 'assistant',
    content: null,
    tool_calls: reply.toolCalls.map((t, i) => ({ id: `call_${i}_${Date.now()}`, type: 'function', function: { name: t.name, arguments: t.arguments } })),
  };
}

function completion(model: string, reply: AnswerReply) {
  return {
    id: `chatcmpl-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: message(reply), finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  };
}

function writeStream(res: import('node:http').ServerResponse, model: string, reply: AnswerReply): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const base = { id: `chatcmpl-${Date.now()}`, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  const msg = message(reply);
  const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  if ('content' in reply) {
    for (const piece of reply.content.match(/.{1,8}/gs) ?? ['']) send({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
  } else {
    send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', tool_calls: (msg.tool_calls ?? []).map((t, index) => ({ index, ...t })) }, finish_reason: null }] });
  }
  send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'content' in reply ? 'stop' : 'tool_calls' }] });
  send({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } });
  res.end('data: [DONE]\n\n');
}

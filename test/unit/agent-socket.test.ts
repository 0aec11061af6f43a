import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { HostClient } from '../../container/agent/host-client.js';
import { HostUnreachableError, pollLoop } from '../../container/agent/poll-loop.js';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { createSocketFetch, type FetchFn } from '../../container/agent/socket-fetch.js';
import { completion } from '../helpers/agent-fakes.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let dir: string;
let server: Server;
let socketFetch: FetchFn;
const routes = new Map<string, Handler>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'enclave-socket-'));
  server = createServer((req, res) => {
    const handler = routes.get(`${req.method} ${req.url}`);
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    // Streaming handlers read the body themselves.
    if (req.headers['x-stream-body'] === '1') {
      handler(req, res, '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.listen(join(dir, 'api.sock'));
  await once(server, 'listening');
  socketFetch = createSocketFetch(join(dir, 'api.sock'));
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('socket fetch', () => {
  test('sends a JSON body with content-length and reads the answer', async () => {
    routes.set('POST /echo?x=1', (req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
      res.end(JSON.stringify({ body, length: req.headers['content-length'], host: req.headers.host, auth: req.headers.authorization }));
    });
    const res = await socketFetch('http://enclave/echo?x=1', {
      method: 'POST',
      headers: { authorization: 'Bearer placeholder', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-multi'), 'a, b');
    assert.deepEqual(await res.json(), { body: '{"a":1}', length: '7', host: 'enclave', auth: 'Bearer placeholder' });
  });

  test('streams the response body as it arrives', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    routes.set('GET /stream', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      void gate.then(() => res.end('data: second\n\n'));
    });
    const res = await socketFetch('http://enclave/stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), 'data: first\n\n');
    release();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.equal(rest, 'data: second\n\n');
  });

  test('sends a streaming request body', async () => {
    routes.set('POST /upload', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`${req.headers['transfer-encoding']}:${Buffer.concat(chunks).toString()}`));
    });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('part1-'));
        controller.enqueue(new TextEncoder().encode('part2'));
        controller.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'POST', body, duplex: 'half', headers: { 'x-stream-body': '1' } };
    const res = await socketFetch('http://enclave/upload', init);
    assert.equal(await res.text(), 'chunked:part1-part2');
  });

  test('204 has a null body; connection errors reject', async () => {
    routes.set('GET /empty', (_req, res) => res.writeHead(204).end());
    const res = await socketFetch('http://enclave/empty');
    assert.equal(res.status, 204);
    assert.equal(res.body, null);
    await assert.rejects(createSocketFetch(join(dir, 'missing.sock'))('http://enclave/x'), /ENOENT/);
  });

  test('an AbortSignal cancels a pending request', async () => {
    routes.set('GET /hang', () => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(socketFetch('http://enclave/hang', { signal: controller.signal }), { name: 'AbortError' });
    const already = AbortSignal.abort();
    await assert.rejects(socketFetch('http://enclave/hang', { signal: already }), { name: 'AbortError' });
  });

  test('works as the fetch of the openai client, plain and streaming', async () => {
    routes.set('POST /v1/chat/completions', (req, res, body) => {
      const parsed = JSON.parse(body) as { stream?: boolean };
      if (!parsed.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(completion(`auth=${req.headers.authorization}`)));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['Hel', 'lo']) {
        const chunk = { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
    const client = new OpenAI({ baseURL: 'http://enclave/v1', apiKey: 'enclave-proxy', fetch: socketFetch, maxRetries: 0 });
    const plain = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plain.choices[0]?.message.content, 'auth=Bearer enclave-proxy');
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Hello');
  });
});

describe('host client and poll loop', () => {
  const turn: TurnRequest = { turnId: 't9', group: 'g', assistantName: 'Enclave', model: 'm', messages: [], maxSteps: 2, context: '', tools: ['send_message'], skills: [] };

  test('HostClient speaks the protocol endpoints', async () => {
    const results: unknown[] = [];
    let polls = 0;
    routes.set('GET /enclave/turn', (_req, res) => {
      polls++;
      if (polls === 1) res.writeHead(204).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(turn));
    });
    routes.set('POST /enclave/turn/result', (_req, res, body) => {
      results.push(JSON.parse(body));
      res.writeHead(204).end();
    });
    routes.set('POST /enclave/tools/send_message', (_req, res, body) => {
      const { args } = JSON.parse(body) as { args: { text: string } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: args.text === 'hello' }));
    });
    const host = new HostClient(socketFetch);
    assert.equal(await host.nextTurn(), null);
    assert.deepEqual(await host.nextTurn(), turn);
    await host.sendResult({ turnId: 't9', ok: true, reply: 'r', steps: 1 });
    assert.deepEqual(results, [{ turnId: 't9', ok: true, reply: 'r', steps: 1 }]);
    assert.deepEqual(await host.callTool('send_message', { turnId: 't9', args: { text: 'hello' } }), { ok: true });
  });

  test('the loop retries connection errors, runs turns and posts results', async () => {
    const stop = new AbortController();
    const posted: TurnResult[] = [];
    let calls = 0;
    await pollLoop({
      nextTurn: async () => {
        calls++;
        if (calls <= 2) throw new Error('connect ECONNREFUSED');
        if (calls === 3) return null;
        return turn;
      },
      handleTurn: async () => {
        throw new Error('boom');
      },
      sendResult: async (result) => {
        posted.push(result);
        stop.abort();
      },
      log: () => undefined,
      stop: stop.signal,
    });
    assert.deepEqual(posted, [{ turnId: 't9', ok: false, reply: '', error: 'boom', steps: 0 }]);
  });

  test('the loop gives up after the failure window', async () => {
    let now = 0;
    const waits: number[] = [];
    await assert.rejects(
      pollLoop({
        nextTurn: async () => {
          throw new Error('connect ENOENT');
        },
        handleTurn: async () => assert.fail('no turn expected'),
        sendResult: async () => undefined,
        log: () => undefined,
        failureWindowMs: 5_000,
        clock: () => now,
        sleep: async (ms) => {
          waits.push(ms);
          now += ms;
        },
      }),
      (err: unknown) => err instanceof HostUnreachableError && /kept failing for 5 s: .*ENOENT/.test(err.message),
    );
    assert.deepEqual(waits.slice(0, 6), [100, 200, 400, 800, 1600, 2000], 'exponential backoff, capped');
    assert.equal(waits.reduce((a, b) => a + b, 0), 5_100);
  });
});

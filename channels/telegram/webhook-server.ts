import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Update } from 'grammy/types';

const MAX_UPDATE_BYTES = 1_000_000;

export interface WebhookServerOptions {
  host: string;
  port: number;
  path: string;
  /** Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; anything else is refused. */
  secretToken: string;
  /** Resolves once the update is handed over; a rejection answers 500 so Telegram retries. */
  onUpdate: (update: Update) => Promise<void>;
}

/** The local HTTP endpoint Telegram posts updates to in webhook mode. */
export async function startWebhookServer(opts: WebhookServerOptions): Promise<Server> {
  const expected = Buffer.from(opts.secretToken);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'POST' || path !== opts.path) return void res.writeHead(404).end();
    const given = Buffer.from(String(req.headers['x-telegram-bot-api-secret-token'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.writeHead(401).end();
    readBody(req)
      .then((body) => opts.onUpdate(JSON.parse(body) as Update))
      .then(
        () => res.writeHead(200).end(),
        () => res.writeHead(500).end(),
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPDATE_BYTES) req.destroy(new Error('update too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '../audit/audit-log.js';
import { hostTimezone, type GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import type { Db } from '../db/database.js';
import { SqliteLedger } from '../ledger/ledger.js';
import type { Logger } from '../logger.js';
import { createModelProxy } from '../proxy/model-proxy.js';

export interface TestCallResult {
  answer: string;
  /** Wall time of the whole call, for the person watching (never asserted). */
  latencyMs: number;
  /** What the ledger reserved before the call and settled after it. */
  reservedMicros: number;
  settledMicros: number;
  group: string;
}

export interface TestCallOptions {
  config: Config;
  db: Db;
  secret: (name: string) => string | undefined;
  secretValues: () => readonly string[];
  model: string;
  log: Logger;
}

/**
 * One small model call through the real credential proxy, as the agent of the group that owns the
 * local chat (main) makes it: the budget is reserved and settled in the ledger and the call audited,
 * so the test proves the whole path the bot will use. The proxy listens on a private Unix socket.
 */
export async function testCallThroughProxy(opts: TestCallOptions): Promise<TestCallResult> {
  const group = testGroup(opts.config, opts.model);
  const groups = new Map([[group.name, group]]);
  const ledger = new SqliteLedger({
    db: opts.db,
    groupLimits: () => group.budget,
    globalLimits: () => opts.config.enclave.budgets.global,
    hostTimezone: hostTimezone(),
  });
  const proxy = createModelProxy({
    groups: () => groups,
    providers: () => opts.config.providers,
    globalPrices: () => opts.config.enclave.prices,
    secret: opts.secret,
    secretValues: opts.secretValues,
    ledger,
    audit: new AuditLog(opts.db),
    cooldownMs: 0,
    log: opts.log,
  });
  const dir = mkdtempSync(join(tmpdir(), 'enclave-setup-'));
  const socketPath = join(dir, 'proxy.sock');
  const server = createServer((req, res) => void proxy(group.name, req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  const before = (opts.db.prepare('SELECT coalesce(max(id), 0) AS id FROM ledger').get() as { id: number }).id;
  try {
    const started = performance.now();
    const answer = await post(socketPath, { model: opts.model, messages: [{ role: 'user', content: 'Reply with one word: ready' }], max_tokens: 16 });
    const latencyMs = performance.now() - started;
    const rows = opts.db.prepare('SELECT kind, micros FROM ledger WHERE id > ? AND group_name = ? ORDER BY id').all(before, group.name) as { kind: string; micros: number }[];
    const sum = (kind: string) => rows.filter((r) => r.kind === kind).reduce((s, r) => s + r.micros, 0);
    return { answer, latencyMs, reservedMicros: sum('reserve'), settledMicros: sum('settle'), group: group.name };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The local chat's group with the chosen model (the test call is charged to it). */
function testGroup(config: Config, model: string): GroupConfig {
  const owner = [...config.groups.values()].find((g) => g.chats.includes('local:main')) ?? config.groups.get('main');
  if (!owner) throw new Error('there is no group for the local chat (groups/main/group.yaml) to charge the test call to; run `enclave groups add main --chat local:main`');
  return { ...owner, model, fallbacks: [], allowedModels: [model] };
}

function post(socketPath: string, body: unknown): Promise<string> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { choices?: { message?: { content?: string | null } }[]; error?: { message?: string } };
        if (res.statusCode === 200) resolve(parsed.choices?.[0]?.message?.content?.trim() ?? '');
        else reject(new Error(`the test call was refused: ${parsed.error?.message ?? `status ${res.statusCode}`}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Proxy part of `npm run bench`: the cost of the proxy hop (checks, ledger, audit, key, relay) on
 * a fake model that answers at once, against calling the fake directly with the same client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { silentLogger } from '../../src/logger.js';
import { createModelProxy } from '../../src/proxy/model-proxy.js';
import { FakeModel } from '../fakes/fake-model.js';
import { testGroup } from '../helpers/group-config.js';
import { fmtMs, percentile, type BenchSection, type Row } from './stats.js';

export type { BenchSection } from './stats.js';


const CALLS = Number(process.env.BENCH_PROXY_CALLS ?? 300);
const WARM_UP = 30;
const LEDGER_CALLS = 200;
const BUSY_WINDOW_CALLS = 2000;
const OVERHEAD_TARGET_MS = 0.5;
const FIRST_BYTE_TARGET_MS = 0.5;

const BODY = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'How long does the proxy take?' }] });
const STREAM_BODY = JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'Stream, please.' }] });

type Timed = (url: string, body: string) => Promise<number>;

/** Whole call: request sent to last byte read. */
function wholeCall(client: Agent): Timed {
  return async (url, body) => {
    const start = performance.now();
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: client });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`bench call answered ${res.statusCode}`);
    return performance.now() - start;
  };
}

/** Streamed call: request sent to the first body chunk; the rest is drained untimed. */
function firstByte(client: Agent): Timed {
  return async (url, body) => {
    const start = performance.now();
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, dispatcher: client });
    let at = 0;
    for await (const _chunk of res.body) if (at === 0) at = performance.now() - start;
    if (res.statusCode !== 200) throw new Error(`bench stream answered ${res.statusCode}`);
    return at;
  };
}

/** Direct and proxied calls alternate, so drift on a shared machine hits both alike. */
async function paired(measure: Timed, direct: string, proxied: string, body: string): Promise<{ direct: number[]; proxied: number[] }> {
  for (let i = 0; i < WARM_UP; i++) {
    await measure(direct, body);
    await measure(proxied, body);
  }
  const out = { direct: [] as number[], proxied: [] as number[] };
  for (let i = 0; i < CALLS; i++) {
    out.direct.push(await measure(direct, body));
    out.proxied.push(await measure(proxied, body));
  }
  return out;
}

function compare(name: string, t: { direct: number[]; proxied: number[] }, targetMs: number): Row[] {
  const row = (p: number): Row => {
    const d = percentile(t.direct, p);
    const v = percentile(t.proxied, p);
    const note = `direct ${fmtMs(d)}, via proxy ${fmtMs(v)} (ratio ${(v / d).toFixed(2)})`;
    return [`${name} p${p}`, fmtMs(v - d), p === 50 ? `target <= ${targetMs} ms; ${note}` : note];
  };
  return [row(50), row(95)];
}

function micros(ms: number): string {
  return `${(ms * 1000).toFixed(0)} µs`;
}

/** reserve + settle times of `measured` calls on a fresh ledger file that already holds `before` calls today. */
function ledgerTimes(before: number, measured: number): number[] {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-ledger-bench-'));
  const db = openDatabase(join(dir, 'bench.db'));
  const ledger = new SqliteLedger({ db, groupLimits: () => ({ dailyUsd: 1_000_000, monthlyUsd: 1_000_000 }), globalLimits: () => ({}), hostTimezone: 'UTC' });
  const times: number[] = [];
  try {
    for (let i = 0; i < before + measured; i++) {
      const start = performance.now();
      const r = ledger.reserve({ group: 'bench', timezone: 'UTC', model: 'bench-model', provider: 'fake', micros: 500, tokens: 4200 });
      if (!r.ok) throw new Error(`bench reservation refused: ${r.refusal.message}`);
      ledger.settle({ reservationId: r.reservationId, usage: { inputTokens: 12, cachedInputTokens: 0, outputTokens: 5 }, micros: 5, outcome: 'ok' });
      if (i >= before) times.push(performance.now() - start);
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

interface ProxyUnderTest {
  url: string;
  close: () => Promise<void>;
}

async function serveProxy(model: FakeModel, stubbed: boolean): Promise<ProxyUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-proxy-bench-'));
  const db = openDatabase(join(dir, 'bench.db'));
  const group = testGroup({ name: 'bench', model: 'bench-model', budget: { dailyUsd: 1_000_000, monthlyUsd: 1_000_000 } });
  let next = 0;
  const proxy = createModelProxy({
    groups: () => new Map([[group.name, group]]),
    providers: () => [{ name: 'fake', baseUrl: model.baseUrl, secret: 'KEY', prices: { 'bench-model': { input: 0.15, output: 0.6 } }, timeoutSeconds: 30 }],
    globalPrices: () => ({}),
    secret: () => 'sk-bench-not-a-real-key',
    ledger: stubbed
      ? { reserve: () => ({ ok: true, reservationId: String(next++) }), settle: () => undefined, largestOverrunOutput: () => undefined }
      : new SqliteLedger({ db, groupLimits: () => group.budget, globalLimits: () => ({}), hostTimezone: 'UTC' }),
    audit: stubbed ? { append: () => undefined } : new AuditLog(db),
    cooldownMs: 60_000,
    log: silentLogger(),
  });
  const server = createServer((req, res) => void proxy(group.name, req, res).catch(() => res.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function benchProxy(): Promise<BenchSection> {
  const model = await FakeModel.start();
  const client = new Agent({ keepAliveTimeout: 10_000 });
  const direct = `${model.baseUrl}/chat/completions`;
  const real = await serveProxy(model, false);
  const stubbed = await serveProxy(model, true);
  try {
    // The stubbed proxy runs first, so the real one is not measured while the code is still warming up.
    const own = await paired(wholeCall(client), direct, stubbed.url, BODY);
    const calls = await paired(wholeCall(client), direct, real.url, BODY);
    const streams = await paired(firstByte(client), direct, real.url, STREAM_BODY);
    const fresh = ledgerTimes(0, LEDGER_CALLS);
    const busy = ledgerTimes(BUSY_WINDOW_CALLS, LEDGER_CALLS);
    const ownP50 = percentile(own.proxied, 50) - percentile(own.direct, 50);
    const extra = (t: { direct: number[]; proxied: number[] }) => percentile(t.proxied, 50) - percentile(t.direct, 50);
    return {
      title: `Proxy (${CALLS} calls each way after ${WARM_UP} warm-up, fake model answering at once)`,
      rows: [
        ...compare('proxy overhead per call', calls, OVERHEAD_TARGET_MS),
        ...compare('first streamed byte, proxy extra', streams, FIRST_BYTE_TARGET_MS),
        ['proxy overhead, ledger+audit stubbed p50', fmtMs(ownP50), 'the proxy\'s own work: checks, filter, key, relay, usage'],
        ['ledger reserve+settle p50', micros(percentile(fresh, 50)), `p95 ${micros(percentile(fresh, 95))}; first ${LEDGER_CALLS} calls of the day`],
        [`ledger reserve+settle p50 at ${BUSY_WINDOW_CALLS} calls/day`, micros(percentile(busy, 50)), `p95 ${micros(percentile(busy, 95))}`],
      ],
      targets: [
        { name: 'proxy overhead p50 over direct', value: `+${fmtMs(extra(calls))}`, target: `<= +${OVERHEAD_TARGET_MS} ms`, met: extra(calls) <= OVERHEAD_TARGET_MS },
        { name: 'first streamed byte p50 over direct', value: `+${fmtMs(extra(streams))}`, target: `<= +${FIRST_BYTE_TARGET_MS} ms`, met: extra(streams) <= FIRST_BYTE_TARGET_MS },
      ],
    };
  } finally {
    await client.close();
    await real.close();
    await stubbed.close();
    await model.close();
  }
}

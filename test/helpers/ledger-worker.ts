import { parentPort, workerData } from 'node:worker_threads';
import type { BudgetLimits } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import type { BudgetRefusal } from '../../src/ledger/types.js';

/** One racer of test/ledger-concurrency: its own thread, its own connection to the shared database file. */
export interface LedgerWorkerJob {
  file: string;
  worker: number;
  calls: number;
  groups: string[];
  micros: number;
  now: number;
  groupLimits: Record<string, BudgetLimits>;
  globalLimits: BudgetLimits;
  /** Int32 flag the main thread sets to 1 to start every worker at once. */
  start: SharedArrayBuffer;
}

export interface LedgerWorkerResult {
  worker: number;
  reserved: Record<string, number>;
  refusals: Array<BudgetRefusal & { group: string }>;
}

const job = workerData as LedgerWorkerJob;
const db = openDatabase(job.file);
const ledger = new SqliteLedger({
  db,
  groupLimits: (g) => job.groupLimits[g] ?? {},
  globalLimits: () => job.globalLimits,
  hostTimezone: 'UTC',
  clock: () => job.now,
});
const result: LedgerWorkerResult = { worker: job.worker, reserved: {}, refusals: [] };
const open: string[] = [];

const settleOldest = (n: number) => {
  const id = open.shift()!;
  // Both settle paths charge the full reservation, so the number of calls let through is exact.
  if (n % 2 === 0) ledger.settle({ reservationId: id, outcome: 'no_usage' });
  else ledger.settle({ reservationId: id, usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10 }, micros: job.micros, outcome: 'ok' });
};

const flag = new Int32Array(job.start);
parentPort!.postMessage('ready');
Atomics.wait(flag, 0, 0);

for (let i = 0; i < job.calls; i++) {
  const group = job.groups[(i + job.worker) % job.groups.length]!;
  const r = ledger.reserve({ group, timezone: 'UTC', model: `w${job.worker}`, provider: 'p', micros: job.micros, tokens: 20 });
  if (r.ok) {
    result.reserved[group] = (result.reserved[group] ?? 0) + 1;
    open.push(r.reservationId);
  } else {
    result.refusals.push({ ...r.refusal, group });
  }
  // A few calls stay in flight while others reserve: open reservations must count too.
  if (open.length > 3) settleOldest(i);
}
for (let i = 0; open.length > 0; i++) settleOldest(i);
db.close();
parentPort!.postMessage(result);

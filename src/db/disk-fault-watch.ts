import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { StorageFaultSink } from './storage-health.js';

type AnyStatement = Statement<unknown[], unknown>;
type AnyTransaction = Transaction<(...args: unknown[]) => unknown>;

/** Distinct SQL texts kept prepared; the host has far fewer, so only generated SQL ever evicts. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Every statement and transaction of this handle tells `sink` when it fails, then throws as before:
 * a full disk is noticed by whichever write meets it first, wherever that write lives, without each
 * store catching for itself. (Commits in WAL mode write at COMMIT, hence the transactions too.)
 */
export function watchDiskFaults(db: Database, sink: StorageFaultSink): void {
  const report = <R>(where: string, run: () => R): R => {
    try {
      return run();
    } catch (err) {
      sink.report(err, where);
      throw err;
    }
  };
  const prepare = db.prepare.bind(db) as (sql: string) => AnyStatement;
  // Stores prepare the same few statements on every call (about 20 a turn); compiling and wrapping
  // each again cost more than running it. A statement still iterating is never handed out twice.
  const cache = new Map<string, AnyStatement>();
  (db as { prepare: unknown }).prepare = (sql: string): AnyStatement => {
    const cached = cache.get(sql);
    if (cached && !cached.busy) return cached;
    const statement = prepare(sql);
    const where = sql.trim().split(/\s+/).slice(0, 3).join(' ');
    for (const method of ['run', 'get', 'all'] as const) {
      const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => report(where, () => original(...args));
    }
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(sql, statement);
    return statement;
  };
  const exec = db.exec.bind(db);
  (db as { exec: unknown }).exec = (sql: string) => report('exec', () => exec(sql));
  const transaction = db.transaction.bind(db) as (fn: (...args: unknown[]) => unknown) => AnyTransaction;
  (db as { transaction: unknown }).transaction = (fn: (...args: unknown[]) => unknown): AnyTransaction => {
    const inner = transaction(fn);
    const wrap = (t: (...args: unknown[]) => unknown) => (...args: unknown[]) => report('transaction', () => t(...args));
    return Object.assign(wrap(inner), {
      default: wrap(inner.default),
      deferred: wrap(inner.deferred),
      immediate: wrap(inner.immediate),
      exclusive: wrap(inner.exclusive),
    }) as unknown as AnyTransaction;
  };
}

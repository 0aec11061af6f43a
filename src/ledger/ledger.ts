import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { systemClock, type Clock } from '../clock.js';
import type { BudgetLimits } from '../config/schema.js';
import type { Db } from '../db/database.js';
import { addOpen, decodeWindows, encodeWindows, loadTotals, settleInTotals, windowRef, type Amount, type Totals, type WindowRef } from './ledger-totals.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope, PERIODS, UNITS, type WindowLimits } from './limits.js';
import { refusalMessage } from './messages.js';
import { OverrunRecord } from './overruns.js';
import type { BudgetLedger, BudgetRefusal, ReserveRequest, ReserveResult, SettleRequest } from './types.js';
import { budgetWindows, type BudgetWindow } from './windows.js';

export interface SqliteLedgerOptions {
  db: Db;
  /** The group's limits from its config (group.yaml budget or enclave.yaml budgets.group). */
  groupLimits: (group: string) => BudgetLimits;
  /** enclave.yaml budgets.global. */
  globalLimits: () => BudgetLimits;
  /** Zone of the global day and month windows. */
  hostTimezone: string;
  clock?: Clock;
}

interface ReserveRow {
  reservation_id: string;
  group_name: string;
  model: string;
  provider: string;
  micros: number;
  tokens: number;
  window_at: number;
  /** JSON list of the totals it counts in; null for reservations written before the totals existed. */
  windows: string | null;
}

interface Check {
  scope: 'group' | 'global';
  /** Scope of its limits and totals: groupScope(name) or GLOBAL_SCOPE. */
  scopeKey: string;
  timezone: string;
  limits: WindowLimits;
}

const RESERVE_COLUMNS = 'reservation_id, group_name, model, provider, micros, tokens, window_at, windows';

/**
 * The budget decision. reserve() checks and records the worst case in one write transaction, so
 * callers on any number of connections can never overspend together; settle() records what the
 * call really cost. Ledger rows are only ever inserted; the running totals of each window
 * (ledger-totals.ts) change with them in the same transaction.
 */
export class SqliteLedger implements BudgetLedger {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly sql: {
    insertReserve: Statement<[string, string, string, string, number, number, number, number, string]>;
    insertSettle: Statement<[string, string, string, string, number, number, number | null, number | null, number | null, string, number, number, string | null]>;
    findReserve: Statement<[string], ReserveRow>;
    isSettled: Statement<[string], unknown>;
    openBefore: Statement<[number], ReserveRow>;
  };
  private readonly reserveTx: (req: ReserveRequest) => ReserveResult;
  private readonly settleTx: (req: SettleRequest, charged: UsageCharge | undefined) => void;
  private readonly closeTx: (createdBefore: number) => number;
  private readonly overruns: OverrunRecord;

  constructor(private readonly opts: SqliteLedgerOptions) {
    const db = (this.db = opts.db);
    this.clock = opts.clock ?? systemClock;
    this.overruns = new OverrunRecord(db);
    this.sql = {
      insertReserve: db.prepare(
        `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, window_at, created_at, windows)
         VALUES (?, 'reserve', ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertSettle: db.prepare(
        `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, input_tokens, cached_tokens, output_tokens, outcome, window_at, created_at, windows)
         VALUES (?, 'settle', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      findReserve: db.prepare(`SELECT ${RESERVE_COLUMNS} FROM ledger WHERE reservation_id = ? AND kind = 'reserve'`),
      isSettled: db.prepare("SELECT 1 FROM ledger WHERE reservation_id = ? AND kind = 'settle'"),
      openBefore: db.prepare(
        `SELECT ${RESERVE_COLUMNS} FROM ledger l
         WHERE kind = 'reserve' AND created_at < ?
           AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle')
         ORDER BY id`,
      ),
    };
    const immediate = <A extends unknown[], R>(fn: (...args: A) => R) => db.transaction(fn).immediate as (...args: A) => R;
    this.reserveTx = immediate((req: ReserveRequest) => this.reserveLocked(req));
    this.settleTx = immediate((req: SettleRequest, charged: UsageCharge | undefined) => this.settleLocked(req, charged));
    this.closeTx = immediate((createdBefore: number) => this.closeLocked(createdBefore));
  }

  reserve(req: ReserveRequest): ReserveResult {
    assertCount('micros', req.micros);
    assertCount('tokens', req.tokens);
    return this.reserveTx(req);
  }

  settle(req: SettleRequest): void {
    this.settleTx(req, req.usage ? usageCharge(req) : undefined);
  }

  largestOverrunOutput(group: string, provider: string, model: string): number | undefined {
    return this.overruns.largestOutput(group, provider, model);
  }

  /**
   * Settles every reservation made before `createdBefore` that never settled (the host stopped
   * mid-call) at its full reserved amount. Call once at startup with the start time.
   */
  closeOpenReservations(createdBefore: number): number {
    return this.closeTx(createdBefore);
  }

  private reserveLocked(req: ReserveRequest): ReserveResult {
    const now = this.clock();
    const checks: Check[] = [
      { scope: 'group', scopeKey: groupScope(req.group), timezone: req.timezone, limits: effectiveLimits(this.db, groupScope(req.group), this.opts.groupLimits(req.group)) },
      { scope: 'global', scopeKey: GLOBAL_SCOPE, timezone: this.opts.hostTimezone, limits: effectiveLimits(this.db, GLOBAL_SCOPE, this.opts.globalLimits()) },
    ];
    const counted: WindowRef[] = [];
    const refusals: BudgetRefusal[] = [];
    for (const check of checks) {
      const windows = budgetWindows(check.timezone, now);
      for (const period of PERIODS) {
        const window = windows[period];
        counted.push(windowRef(check.scopeKey, window));
        refusals.push(...refusalsIn(check, window, loadTotals(this.db, check.scopeKey, window), req, now));
      }
    }
    if (refusals.length > 0) {
      // When several limits refuse, the one that stays closed longest is the one worth telling.
      return { ok: false, refusal: refusals.reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a)) };
    }
    const reservationId = randomUUID();
    this.sql.insertReserve.run(reservationId, req.group, req.model, req.provider, req.micros, req.tokens, now, now, encodeWindows(counted));
    addOpen(this.db, counted, req);
    return { ok: true, reservationId };
  }

  private settleLocked(req: SettleRequest, charged: UsageCharge | undefined): void {
    const reserve = this.sql.findReserve.get(req.reservationId);
    if (!reserve) throw new Error(`cannot settle reservation ${req.reservationId}: there is no such reservation`);
    if (this.sql.isSettled.get(req.reservationId)) throw new Error(`cannot settle reservation ${req.reservationId}: it is already settled`);
    const cost = { micros: charged?.micros ?? reserve.micros, tokens: charged?.tokens ?? reserve.tokens };
    this.recordSettle(reserve, cost, req.outcome, req.usage ?? null);
  }

  private closeLocked(createdBefore: number): number {
    const open = this.sql.openBefore.all(createdBefore);
    for (const reserve of open) this.recordSettle(reserve, reserve, 'aborted', null);
    return open.length;
  }

  private recordSettle(reserve: ReserveRow, charged: Amount, outcome: SettleRequest['outcome'], usage: SettleRequest['usage'] | null): void {
    this.sql.insertSettle.run(
      reserve.reservation_id,
      reserve.group_name,
      reserve.model,
      reserve.provider,
      charged.micros,
      charged.tokens,
      usage?.inputTokens ?? null,
      usage?.cachedInputTokens ?? null,
      usage?.outputTokens ?? null,
      outcome,
      reserve.window_at,
      this.clock(),
      reserve.windows,
    );
    // A reservation from before the totals is in no stored totals while open (see ledger-totals.ts).
    if (reserve.windows !== null) settleInTotals(this.db, decodeWindows(reserve.windows), reserve, charged);
    if (usage && charged.tokens > reserve.tokens) this.overruns.noteOverrun(reserve.group_name, reserve.provider, reserve.model, usage.outputTokens);
  }
}

function refusalsIn(check: Check, window: BudgetWindow, totals: Totals, req: ReserveRequest, now: number): BudgetRefusal[] {
  const limits = check.limits[window.period];
  const found: BudgetRefusal[] = [];
  for (const unit of UNITS) {
    const limit = limits[unit];
    if (limit === null) continue;
    const spent = unit === 'usd' ? totals.micros + totals.openMicros : totals.tokens + totals.openTokens;
    const request = unit === 'usd' ? req.micros : req.tokens;
    if (spent + request <= limit) continue;
    const facts = { scope: check.scope, period: window.period, unit, spent, limit, timezone: check.timezone, resetsAt: window.end, now };
    found.push({ scope: check.scope, period: window.period, unit, spent, limit, resetsAt: window.end, message: refusalMessage({ ...facts, request }) });
  }
  return found;
}

/** What usage says a call cost; micros undefined when the caller had no price for it (the reservation's dollars are charged). */
interface UsageCharge {
  micros: number | undefined;
  tokens: number;
}

function usageCharge(req: SettleRequest): UsageCharge {
  const usage = req.usage!;
  assertCount('inputTokens', usage.inputTokens);
  assertCount('cachedInputTokens', usage.cachedInputTokens);
  assertCount('outputTokens', usage.outputTokens);
  if (req.micros !== undefined) assertCount('micros', req.micros);
  return { micros: req.micros, tokens: usage.inputTokens + usage.outputTokens };
}

function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`ledger: ${name} must be a whole number >= 0, not ${value}`);
}

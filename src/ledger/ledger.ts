import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import type { BudgetLimits } from '../config/schema.js';
import type { Db } from '../db/database.js';
import { effectiveLimits, GLOBAL_SCOPE, groupScope, PERIODS, UNITS, type WindowLimits } from './limits.js';
import { refusalMessage } from './messages.js';
import { windowSpend } from './spend.js';
import type { BudgetLedger, BudgetRefusal, ReserveRequest, ReserveResult, SettleRequest } from './types.js';
import { budgetWindows } from './windows.js';

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
  group_name: string;
  model: string;
  provider: string;
  micros: number;
  tokens: number;
  window_at: number;
}

interface Check {
  scope: 'group' | 'global';
  group: string | undefined;
  timezone: string;
  limits: WindowLimits;
}

/**
 * The budget decision. reserve() checks and records the worst case in one write transaction, so
 * callers on any number of connections can never overspend together; settle() records what the
 * call really cost. Rows are only ever inserted.
 */
export class SqliteLedger implements BudgetLedger {
  private readonly db: Db;
  private readonly clock: Clock;

  constructor(private readonly opts: SqliteLedgerOptions) {
    this.db = opts.db;
    this.clock = opts.clock ?? systemClock;
  }

  reserve(req: ReserveRequest): ReserveResult {
    assertCount('micros', req.micros);
    assertCount('tokens', req.tokens);
    return this.db.transaction(() => this.reserveLocked(req)).immediate();
  }

  settle(req: SettleRequest): void {
    const charged = req.usage ? usageCharge(req) : undefined;
    this.db.transaction(() => {
      const reserve = this.db
        .prepare<[string], ReserveRow>("SELECT group_name, model, provider, micros, tokens, window_at FROM ledger WHERE reservation_id = ? AND kind = 'reserve'")
        .get(req.reservationId);
      if (!reserve) throw new Error(`cannot settle reservation ${req.reservationId}: there is no such reservation`);
      if (this.db.prepare("SELECT 1 FROM ledger WHERE reservation_id = ? AND kind = 'settle'").get(req.reservationId)) {
        throw new Error(`cannot settle reservation ${req.reservationId}: it is already settled`);
      }
      this.db
        .prepare(
          `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, input_tokens, cached_tokens, output_tokens, outcome, window_at, created_at)
           VALUES (?, 'settle', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          req.reservationId,
          reserve.group_name,
          reserve.model,
          reserve.provider,
          charged?.micros ?? reserve.micros,
          charged?.tokens ?? reserve.tokens,
          req.usage?.inputTokens ?? null,
          req.usage?.cachedInputTokens ?? null,
          req.usage?.outputTokens ?? null,
          req.outcome,
          reserve.window_at,
          this.clock(),
        );
    }).immediate();
  }

  /**
   * Settles every reservation made before `createdBefore` that never settled (the host stopped
   * mid-call) at its full reserved amount. Call once at startup with the start time.
   */
  closeOpenReservations(createdBefore: number): number {
    return this.db
      .prepare(
        `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, outcome, window_at, created_at)
         SELECT reservation_id, 'settle', group_name, model, provider, micros, tokens, 'aborted', window_at, ?
         FROM ledger l
         WHERE kind = 'reserve' AND created_at < ?
           AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle')`,
      )
      .run(this.clock(), createdBefore).changes;
  }

  private reserveLocked(req: ReserveRequest): ReserveResult {
    const now = this.clock();
    const checks: Check[] = [
      { scope: 'group', group: req.group, timezone: req.timezone, limits: effectiveLimits(this.db, groupScope(req.group), this.opts.groupLimits(req.group)) },
      { scope: 'global', group: undefined, timezone: this.opts.hostTimezone, limits: effectiveLimits(this.db, GLOBAL_SCOPE, this.opts.globalLimits()) },
    ];
    const refusals = checks.flatMap((check) => this.refusals(check, req, now));
    if (refusals.length > 0) {
      // When several limits refuse, the one that stays closed longest is the one worth telling.
      return { ok: false, refusal: refusals.reduce((a, b) => (b.resetsAt > a.resetsAt ? b : a)) };
    }
    const reservationId = randomUUID();
    this.db
      .prepare(
        `INSERT INTO ledger (reservation_id, kind, group_name, model, provider, micros, tokens, window_at, created_at)
         VALUES (?, 'reserve', ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(reservationId, req.group, req.model, req.provider, req.micros, req.tokens, now, now);
    return { ok: true, reservationId };
  }

  private refusals(check: Check, req: ReserveRequest, now: number): BudgetRefusal[] {
    const windows = budgetWindows(check.timezone, now);
    const found: BudgetRefusal[] = [];
    for (const period of PERIODS) {
      const limits = check.limits[period];
      if (limits.usd === null && limits.tokens === null) continue;
      const spend = windowSpend(this.db, check.group, windows[period]);
      for (const unit of UNITS) {
        const limit = limits[unit];
        if (limit === null) continue;
        const spent = unit === 'usd' ? spend.micros + spend.openMicros : spend.tokens + spend.openTokens;
        const request = unit === 'usd' ? req.micros : req.tokens;
        if (spent + request <= limit) continue;
        const facts = { scope: check.scope, period, unit, spent, limit, timezone: check.timezone, resetsAt: windows[period].end, now };
        found.push({ scope: check.scope, period, unit, spent, limit, resetsAt: facts.resetsAt, message: refusalMessage({ ...facts, request }) });
      }
    }
    return found;
  }
}

function usageCharge(req: SettleRequest): { micros: number | undefined; tokens: number } {
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

import type { Db } from '../db/database.js';
import type { BudgetLedger, BudgetRefusal, ReserveRequest, ReserveResult, SettleRequest } from '../ledger/types.js';
import { formatUsd } from '../ledger/money.js';

/**
 * A chain's spend limit (maxChainUsd) on top of every group's own budget. Each model call of a
 * turn that works for a chain reserves its worst case on the chain's row in the same SQLite write
 * that checks the limit, so parallel calls can never together pass it; settlement moves the
 * reservation to the real cost. A host that stopped mid-call charges the open reservations in full.
 */
export class ChainBudget {
  constructor(private readonly db: Db) {}

  /** False when the chain is over its limit or no longer open (cancelled or given up): the call is not made. */
  reserve(chainId: string, micros: number): boolean {
    return (
      this.db
        .prepare(`UPDATE team_chains SET reserved_micros = reserved_micros + ? WHERE id = ? AND state = 'open' AND spent_micros + reserved_micros + ? <= limit_micros`)
        .run(micros, chainId, micros).changes === 1
    );
  }

  settle(chainId: string, reservedMicros: number, chargedMicros: number): void {
    this.db.prepare('UPDATE team_chains SET reserved_micros = MAX(0, reserved_micros - ?), spent_micros = spent_micros + ? WHERE id = ?').run(reservedMicros, chargedMicros, chainId);
  }

  /** At start: reservations a stopped host left open are charged in full. */
  chargeOpenReservations(): number {
    return this.db.prepare('UPDATE team_chains SET spent_micros = spent_micros + reserved_micros, reserved_micros = 0 WHERE reserved_micros > 0').run().changes;
  }

  spent(chainId: string): { spentMicros: number; limitMicros: number } | undefined {
    const row = this.db.prepare<[string], { s: number; l: number }>('SELECT spent_micros AS s, limit_micros AS l FROM team_chains WHERE id = ?').get(chainId);
    return row && { spentMicros: row.s, limitMicros: row.l };
  }
}

/**
 * The ledger the model proxy uses: a call of a group whose running turn works for a chain is
 * reserved on the chain first, then on the group's own budget; either refusal stops the call.
 */
export function chainAwareLedger(inner: BudgetLedger, chains: ChainBudget, chainOf: (group: string) => string | undefined): BudgetLedger {
  const open = new Map<string, { chainId: string; micros: number }>();
  return {
    reserve(req: ReserveRequest): ReserveResult {
      const chainId = chainOf(req.group);
      if (chainId === undefined) return inner.reserve(req);
      if (!chains.reserve(chainId, req.micros)) return { ok: false, refusal: chainRefusal(chains, chainId, req.micros) };
      const result = inner.reserve(req);
      if (!result.ok) chains.settle(chainId, req.micros, 0);
      else open.set(result.reservationId, { chainId, micros: req.micros });
      return result;
    },
    settle(req: SettleRequest): void {
      const chained = open.get(req.reservationId);
      open.delete(req.reservationId);
      try {
        inner.settle(req);
      } finally {
        if (chained) chains.settle(chained.chainId, chained.micros, req.usage && req.micros !== undefined ? req.micros : chained.micros);
      }
    },
    largestOverrunOutput: (group, provider, model) => inner.largestOverrunOutput(group, provider, model),
  };
}

function chainRefusal(chains: ChainBudget, chainId: string, micros: number): BudgetRefusal {
  const s = chains.spent(chainId) ?? { spentMicros: 0, limitMicros: 0 };
  return {
    scope: 'chain',
    period: 'day',
    unit: 'usd',
    spent: s.spentMicros,
    limit: s.limitMicros,
    resetsAt: 0,
    message:
      `This chain of work between agents has used ${formatUsd(s.spentMicros)} of its ${formatUsd(s.limitMicros)} limit (maxChainUsd), ` +
      `and the next model call could cost up to ${formatUsd(micros)}; it was not made.`,
  };
}

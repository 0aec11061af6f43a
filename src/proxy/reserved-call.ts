import type { AuditSink } from '../audit/types.js';
import { costMicros } from '../ledger/pricing.js';
import type { BudgetLedger, ModelPrice, SettleRequest, TokenUsage } from '../ledger/types.js';
import { NO_USAGE, totalTokens } from '../ledger/usage.js';
import type { Logger } from '../logger.js';

export interface Reservation {
  id: string;
  micros: number;
  tokens: number;
}

export interface ReservedCallInfo {
  group: string;
  model: string;
  provider: string;
  stream: boolean;
  price: ModelPrice;
  reservation: Reservation;
}

/**
 * What a settlement charges: the real usage; the whole reservation (the provider may have billed
 * a call whose usage is unknown); or nothing (the provider provably did not bill it).
 */
export type Charge = TokenUsage | 'reservation' | 'nothing';

interface SettleServices {
  ledger: BudgetLedger;
  audit: AuditSink;
  log: Logger;
  onSettled?: (group: string) => void;
}

/** The reservation of one upstream attempt, settled and audited exactly once. */
export class ReservedCall {
  private settled = false;

  constructor(
    private readonly s: SettleServices,
    private readonly info: ReservedCallInfo,
  ) {}

  settle(outcome: SettleRequest['outcome'], charge: Charge, extra: Record<string, unknown> = {}): void {
    if (this.settled) return;
    this.settled = true;
    const { group, model, provider, reservation } = this.info;
    const usage = charge === 'reservation' ? undefined : charge === 'nothing' ? NO_USAGE : charge;
    const micros = usage ? costMicros(usage, this.info.price) : reservation.micros;
    try {
      this.s.ledger.settle({ reservationId: reservation.id, usage, micros: usage ? micros : undefined, outcome });
    } catch (err) {
      this.s.log.error({ group, reservationId: reservation.id, err: (err as Error).message }, 'settling a model call failed; the reservation stays charged');
    }
    const overrun = usage ? this.overrun(micros, totalTokens(usage)) : {};
    this.s.audit.append({
      kind: 'model_call',
      group,
      actor: `agent:${group}`,
      detail: {
        model,
        provider,
        outcome,
        charged: typeof charge === 'string' ? charge : 'usage',
        stream: this.info.stream,
        reservationId: reservation.id,
        reservedMicros: reservation.micros,
        micros,
        inputTokens: usage?.inputTokens ?? null,
        cachedInputTokens: usage?.cachedInputTokens ?? null,
        outputTokens: usage?.outputTokens ?? null,
        ...overrun,
        ...extra,
      },
    });
    this.s.onSettled?.(group);
  }

  /**
   * A call that cost more than its worst case is still charged in full (the ledger follows the
   * provider's bill) but is made visible: the estimate missed, and a limit may be overspent.
   */
  private overrun(micros: number, tokens: number): Record<string, number> {
    const { group, model, provider, reservation } = this.info;
    const found: Record<string, number> = {};
    if (micros > reservation.micros) found.overrun_micros = micros - reservation.micros;
    if (tokens > reservation.tokens) found.overrun_tokens = tokens - reservation.tokens;
    if (Object.keys(found).length > 0) {
      this.s.log.warn(
        { group, model, provider, reservedMicros: reservation.micros, micros, reservedTokens: reservation.tokens, tokens, ...found },
        'a model call cost more than its reservation; the real cost is charged',
      );
    }
    return found;
  }
}

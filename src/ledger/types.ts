/** USD per one million tokens, as providers publish them. */
export interface ModelPrice {
  input: number;
  cachedInput?: number;
  output: number;
  /** The most output tokens one call can produce, hidden reasoning included (when max_tokens does not cap it). */
  maxOutputTokens?: number;
  /** The model reads image parts. */
  vision?: boolean;
  /** Prompt tokens reserved per started 512×512 tile of an image (vision models; a high default when unset). */
  imageTokensPerTile?: number;
  /** Prompt tokens reserved per image on top of its tiles (vision models; a high default when unset). */
  imageBaseTokens?: number;
  /** USD per minute of audio (speech-to-text models). */
  perMinute?: number;
}

/** Token counts of one call, whichever API's field names the provider used. */
export interface TokenUsage {
  inputTokens: number;
  /** Part of inputTokens that the provider served from its cache. */
  cachedInputTokens: number;
  outputTokens: number;
}

export type BudgetPeriod = 'day' | 'month';
export type BudgetUnit = 'usd' | 'tokens';

export interface ReserveRequest {
  group: string;
  /** IANA time zone of the group; its windows start at its midnight. */
  timezone: string;
  model: string;
  provider: string;
  /** Worst-case cost of the call in micro-dollars. */
  micros: number;
  /** Worst-case tokens of the call. */
  tokens: number;
}

export interface BudgetRefusal {
  scope: 'group' | 'global' | 'chain';
  period: BudgetPeriod;
  unit: BudgetUnit;
  /** Settled spend plus open reservations in the window, in the unit (micro-dollars or tokens). */
  spent: number;
  limit: number;
  /** When the window that refused ends, ms since the epoch. */
  resetsAt: number;
  /** One sentence for people: what was spent, the limit, when it resets. */
  message: string;
}

export type ReserveResult = { ok: true; reservationId: string } | { ok: false; refusal: BudgetRefusal };

export interface SettleRequest {
  reservationId: string;
  /** Real usage; undefined when the provider did not report it (the reservation is charged). */
  usage?: TokenUsage;
  /** Real cost of usage in micro-dollars (ignored without usage). */
  micros?: number;
  outcome: 'ok' | 'failed' | 'no_usage' | 'aborted';
}

/** Reserve before every upstream call, settle after it. Implemented over SQLite in ledger.ts. */
export interface BudgetLedger {
  reserve(req: ReserveRequest): ReserveResult;
  settle(req: SettleRequest): void;
  /**
   * The most output tokens of any settled call of the group to this provider and model that
   * used more tokens than it reserved; undefined when none did.
   */
  largestOverrunOutput(group: string, provider: string, model: string): number | undefined;
}

import type { Db } from '../db/database.js';
import type { Statement } from 'better-sqlite3';
import { GLOBAL_SCOPE } from './limits.js';
import type { BudgetPeriod } from './types.js';
import type { BudgetWindow } from './windows.js';

/**
 * Running totals per budget window (table ledger_totals), kept in the same write transaction as
 * the ledger rows they count, so a reservation reads four rows instead of summing a window.
 * The ledger stays the record: a window without a totals row is recounted from its ledger rows.
 *
 * Rows written before the totals existed (windows IS NULL) count in the window their window_at
 * falls in. A recount that finds one of them still open is not stored: nobody could tell later
 * which stored totals its settlement must move (its zone was not recorded), so the window stays
 * recounted until it settles (at the latest when the host starts: closeOpenReservations).
 */

/** One total: a scope ('global' or 'group:<name>') and one of its windows. */
export interface WindowRef {
  scope: string;
  period: BudgetPeriod;
  key: string;
}

/** Settled spend and open reservations, in micro-dollars and tokens. */
export interface Totals {
  micros: number;
  tokens: number;
  openMicros: number;
  openTokens: number;
}

export interface Amount {
  micros: number;
  tokens: number;
}

const COLUMNS = 'settled_micros AS micros, settled_tokens AS tokens, open_micros AS openMicros, open_tokens AS openTokens';

// A row counts in a window when its reservation named the window (ledger.windows), or, written
// before the totals existed, when its window_at falls inside the window. A settle row counts as
// spent; a reserve row counts as open while it has no settle row.
const OPEN = `kind = 'reserve' AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle')`;
const RECOUNT = `
  SELECT
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN micros END), 0) AS micros,
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN tokens END), 0) AS tokens,
    COALESCE(SUM(CASE WHEN ${OPEN} THEN micros END), 0) AS openMicros,
    COALESCE(SUM(CASE WHEN ${OPEN} THEN tokens END), 0) AS openTokens,
    COUNT(CASE WHEN windows IS NULL AND ${OPEN} THEN 1 END) AS openUnnamed
  FROM ledger l
  WHERE window_at >= @start AND window_at < @end AND (windows IS NULL OR instr(windows, @named) > 0)`;

interface RecountParams {
  start: number;
  end: number;
  named: string;
  group?: string;
}

interface Recount extends Totals {
  /** Open reservations among the rows written before the totals existed. */
  openUnnamed: number;
}

interface Statements {
  read: Statement<[string, string, string], Totals>;
  insert: Statement<[string, string, string, number, number, number, number]>;
  addOpen: Statement<[number, number, string, string, string]>;
  settle: Statement<[number, number, number, number, string, string, string]>;
  recountAll: Statement<[RecountParams], Recount>;
  recountGroup: Statement<[RecountParams], Recount>;
}

const prepared = new WeakMap<Db, Statements>();

function statements(db: Db): Statements {
  let s = prepared.get(db);
  if (!s) {
    const where = 'WHERE scope = ? AND period = ? AND window_key = ?';
    s = {
      read: db.prepare(`SELECT ${COLUMNS} FROM ledger_totals ${where}`),
      insert: db.prepare(
        'INSERT INTO ledger_totals (scope, period, window_key, settled_micros, settled_tokens, open_micros, open_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      addOpen: db.prepare(`UPDATE ledger_totals SET open_micros = open_micros + ?, open_tokens = open_tokens + ? ${where}`),
      settle: db.prepare(
        `UPDATE ledger_totals SET open_micros = open_micros - ?, open_tokens = open_tokens - ?, settled_micros = settled_micros + ?, settled_tokens = settled_tokens + ? ${where}`,
      ),
      recountAll: db.prepare(RECOUNT),
      recountGroup: db.prepare(`${RECOUNT} AND group_name = @group`),
    };
    prepared.set(db, s);
  }
  return s;
}

export function windowRef(scope: string, window: BudgetWindow): WindowRef {
  return { scope, period: window.period, key: window.key };
}

/** ledger.windows of a reservation: the totals it counts in. A recount finds a window by this exact text. */
export function encodeWindows(refs: readonly WindowRef[]): string {
  return `[${refs.map(refText).join(',')}]`;
}

function refText(ref: WindowRef): string {
  return JSON.stringify({ scope: ref.scope, period: ref.period, key: ref.key });
}

export function decodeWindows(text: string): WindowRef[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every(isWindowRef)) throw new Error(`ledger: malformed windows of a reservation: ${text}`);
  return value;
}

function isWindowRef(v: unknown): v is WindowRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.scope === 'string' && (r.period === 'day' || r.period === 'month') && typeof r.key === 'string';
}

/** The totals of a scope's window: the stored row, or a recount from the ledger rows when there is none. Writes nothing. */
export function readTotals(db: Db, scope: string, window: BudgetWindow): Totals {
  return statements(db).read.get(scope, window.period, window.key) ?? amounts(recount(db, scope, window));
}

/** Like readTotals, but stores the recount (when it may be) so later calls find the row. Call inside a write transaction. */
export function loadTotals(db: Db, scope: string, window: BudgetWindow): Totals {
  const s = statements(db);
  const stored = s.read.get(scope, window.period, window.key);
  if (stored) return stored;
  const counted = recount(db, scope, window);
  if (counted.openUnnamed === 0) s.insert.run(scope, window.period, window.key, counted.micros, counted.tokens, counted.openMicros, counted.openTokens);
  return amounts(counted);
}

/** Adds a new reservation to the open amounts of its windows (a window without a row is recounted when needed). */
export function addOpen(db: Db, refs: readonly WindowRef[], reserved: Amount): void {
  const s = statements(db);
  for (const ref of refs) s.addOpen.run(reserved.micros, reserved.tokens, ref.scope, ref.period, ref.key);
}

/** Moves a settled reservation out of the open amounts of its windows and adds what it cost. */
export function settleInTotals(db: Db, refs: readonly WindowRef[], reserved: Amount, charged: Amount): void {
  const s = statements(db);
  for (const ref of refs) s.settle.run(reserved.micros, reserved.tokens, charged.micros, charged.tokens, ref.scope, ref.period, ref.key);
}

/** The totals of a scope's window summed from its ledger rows: the slow path, for windows without a row. */
function recount(db: Db, scope: string, window: BudgetWindow): Recount {
  const s = statements(db);
  const params: RecountParams = { start: window.start, end: window.end, named: refText(windowRef(scope, window)) };
  if (scope === GLOBAL_SCOPE) return s.recountAll.get(params)!;
  return s.recountGroup.get({ ...params, group: groupOfScope(scope) })!;
}

function amounts(t: Totals): Totals {
  return { micros: t.micros, tokens: t.tokens, openMicros: t.openMicros, openTokens: t.openTokens };
}

function groupOfScope(scope: string): string {
  if (!scope.startsWith('group:')) throw new Error(`ledger: unknown totals scope ${scope}`);
  return scope.slice('group:'.length);
}

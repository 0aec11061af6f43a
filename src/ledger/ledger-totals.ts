import type { Db } from '../db/database.js';
import type { Statement } from 'better-sqlite3';
import { GLOBAL_SCOPE } from './limits.js';
import type { BudgetPeriod } from './types.js';
import { dayWindow, monthWindow, type BudgetWindow } from './windows.js';

/**
 * Running totals per budget window (table ledger_totals), kept in the same write transaction as
 * the ledger rows they count, so a reservation reads four rows instead of summing a window.
 * The ledger stays the record: a missing totals row is recounted from the ledger rows.
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

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * Zones run from UTC-12 to UTC+14, so the windows of one local date in two zones lie at most 26 h
 * apart (one hour of slack on top). A reservation made under another zone of its group can only
 * share a window key with rows this close to the window.
 */
const ZONE_SPREAD_MS = 27 * HOUR;

const COLUMNS = 'settled_micros AS micros, settled_tokens AS tokens, open_micros AS openMicros, open_tokens AS openTokens';

// A row counts in a window when its reservation named the window (windows JSON), or, for rows
// written before the totals existed (windows IS NULL), when its window_at falls inside the window.
// A settle row counts as spent; a reserve row counts as open while it has no settle row.
const RECOUNT = `
  SELECT
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN micros END), 0) AS micros,
    COALESCE(SUM(CASE WHEN kind = 'settle' THEN tokens END), 0) AS tokens,
    COALESCE(SUM(CASE WHEN kind = 'reserve' AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle') THEN micros END), 0) AS openMicros,
    COALESCE(SUM(CASE WHEN kind = 'reserve' AND NOT EXISTS (SELECT 1 FROM ledger s WHERE s.reservation_id = l.reservation_id AND s.kind = 'settle') THEN tokens END), 0) AS openTokens
  FROM ledger l
  WHERE window_at >= @near AND window_at < @far
    AND CASE WHEN windows IS NULL THEN window_at >= @start AND window_at < @end ELSE instr(windows, @named) > 0 END`;

interface RecountParams {
  near: number;
  far: number;
  start: number;
  end: number;
  named: string;
  group?: string;
}

interface Statements {
  read: Statement<[string, string, string], Totals>;
  insert: Statement<[string, string, string, number, number, number, number]>;
  addOpen: Statement<[number, number, string, string, string]>;
  settle: Statement<[number, number, number, number, string, string, string]>;
  forget: Statement<[string, string, string]>;
  recountAll: Statement<[RecountParams], Totals>;
  recountGroup: Statement<[RecountParams], Totals>;
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
      forget: db.prepare(`DELETE FROM ledger_totals ${where}`),
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

/** ledger.windows of a reservation: the totals it counts in. recount() finds a window by this exact text. */
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
  return statements(db).read.get(scope, window.period, window.key) ?? recount(db, scope, window);
}

/** Like readTotals, but stores a recount so later calls find the row. Call inside a write transaction. */
export function loadTotals(db: Db, scope: string, window: BudgetWindow): Totals {
  const s = statements(db);
  const stored = s.read.get(scope, window.period, window.key);
  if (stored) return stored;
  const counted = recount(db, scope, window);
  s.insert.run(scope, window.period, window.key, counted.micros, counted.tokens, counted.openMicros, counted.openTokens);
  return counted;
}

/** Adds a new reservation to the open amounts of its windows (each loaded with loadTotals first). */
export function addOpen(db: Db, refs: readonly WindowRef[], reserved: Amount): void {
  const s = statements(db);
  for (const ref of refs) s.addOpen.run(reserved.micros, reserved.tokens, ref.scope, ref.period, ref.key);
}

/**
 * Moves a settled reservation out of the open amounts of its windows and adds what it cost.
 * A window without a row is left alone: its recount will find the settle row.
 */
export function settleInTotals(db: Db, refs: readonly WindowRef[], reserved: Amount, charged: Amount): void {
  const s = statements(db);
  for (const ref of refs) s.settle.run(reserved.micros, reserved.tokens, charged.micros, charged.tokens, ref.scope, ref.period, ref.key);
}

/**
 * For a reservation written before the totals existed (it names no windows): drops every total
 * that may hold it, so each is recounted from the ledger rows when next needed. Its windows are
 * those of its zone, which the ledger did not record; the dates around window_at cover every zone.
 */
export function forgetTotalsAround(db: Db, groupScope: string, windowAt: number): void {
  const s = statements(db);
  const around = [windowAt - DAY, windowAt, windowAt + DAY];
  const days = new Set(around.map((t) => dayWindow('UTC', t).key));
  const months = new Set(around.map((t) => monthWindow('UTC', t).key));
  for (const scope of [groupScope, GLOBAL_SCOPE]) {
    for (const key of days) s.forget.run(scope, 'day', key);
    for (const key of months) s.forget.run(scope, 'month', key);
  }
}

/** The totals of a scope's window summed from the ledger rows (the slow path: rows near the window). */
export function recount(db: Db, scope: string, window: BudgetWindow): Totals {
  const s = statements(db);
  const params: RecountParams = {
    near: window.start - ZONE_SPREAD_MS,
    far: window.end + ZONE_SPREAD_MS,
    start: window.start,
    end: window.end,
    named: refText(windowRef(scope, window)),
  };
  if (scope === GLOBAL_SCOPE) return s.recountAll.get(params)!;
  return s.recountGroup.get({ ...params, group: groupOfScope(scope) })!;
}

function groupOfScope(scope: string): string {
  if (!scope.startsWith('group:')) throw new Error(`ledger: unknown totals scope ${scope}`);
  return scope.slice('group:'.length);
}

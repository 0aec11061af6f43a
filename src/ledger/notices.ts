import type { Db } from '../db/database.js';
import { PERIODS, UNITS, type WindowLimits } from './limits.js';
import { thresholdMessage } from './messages.js';
import { windowSpend } from './spend.js';
import type { BudgetPeriod, BudgetRefusal, BudgetUnit } from './types.js';
import { budgetWindows } from './windows.js';

export const NOTICE_LEVELS = [50, 80, 100] as const;
export type NoticeLevel = (typeof NOTICE_LEVELS)[number];

export interface BudgetNotice {
  period: BudgetPeriod;
  unit: BudgetUnit;
  level: NoticeLevel;
  spent: number;
  limit: number;
  resetsAt: number;
  /** The sentence for the chat. */
  message: string;
}

/**
 * Threshold notices due for a group after a call settled: per window and limit, the highest level
 * its settled spend has newly reached. Every level reached is recorded, so each is told at most
 * once per window even when several hosts or calls settle at the same moment.
 */
export function budgetNotices(db: Db, group: string, timezone: string, now: number, limits: WindowLimits): BudgetNotice[] {
  const windows = budgetWindows(timezone, now);
  const claim = db.prepare('INSERT OR IGNORE INTO budget_notices (group_name, window_key, level, sent_at) VALUES (?, ?, ?, ?)');
  return db.transaction(() => {
    const notices: BudgetNotice[] = [];
    for (const period of PERIODS) {
      const window = windows[period];
      const spend = windowSpend(db, group, window);
      for (const unit of UNITS) {
        const limit = limits[period][unit];
        if (limit === null || limit === 0) continue;
        const spent = unit === 'usd' ? spend.micros : spend.tokens;
        const reached = NOTICE_LEVELS.filter((level) => spent * 100 >= level * limit);
        const fresh = reached.filter((level) => claim.run(group, `${period}:${window.key}`, `${unit}:${level}`, now).changes === 1);
        const level = fresh[fresh.length - 1];
        if (level === undefined) continue;
        const facts = { scope: 'group' as const, period, unit, spent, limit, timezone, resetsAt: window.end, now };
        notices.push({ period, unit, level, spent, limit, resetsAt: window.end, message: thresholdMessage({ ...facts, level }) });
      }
    }
    return notices;
  }).immediate();
}

/** Names the window a refusal belongs to: the same for every refusal until that window resets. */
export function refusalWindowKey(refusal: Pick<BudgetRefusal, 'scope' | 'period' | 'resetsAt' | 'chain'>): string {
  return `refused:${refusal.scope}:${refusal.period}:${refusal.chain ?? refusal.resetsAt}`;
}

/** True the first time it is asked for a group and window, false after: the chat hears of a refusal once per window. */
export function refusalNoticeDue(db: Db, group: string, windowKey: string, now: number): boolean {
  return db.prepare("INSERT OR IGNORE INTO budget_notices (group_name, window_key, level, sent_at) VALUES (?, ?, 'refused', ?)").run(group, windowKey, now).changes === 1;
}

export interface SentNotice {
  group: string;
  /** The window it was about, e.g. "group:day:2026-11-30". */
  windowKey: string;
  /** '50', '80', '100' (percent of a limit) or 'refused'. */
  level: string;
  sentAt: number;
}

/** The budget notices chats were sent, newest first (for the dashboard's Spend page). */
export function recentNotices(db: Db, limit: number): SentNotice[] {
  return db
    .prepare<[number], { group_name: string; window_key: string; level: string; sent_at: number }>(
      'SELECT group_name, window_key, level, sent_at FROM budget_notices ORDER BY sent_at DESC LIMIT ?',
    )
    .all(limit)
    .map((r) => ({ group: r.group_name, windowKey: r.window_key, level: String(r.level), sentAt: r.sent_at }));
}

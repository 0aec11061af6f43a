import { html } from 'hono/html';
import { formatTokens, formatUsd } from '../../ledger/money.js';
import type { AuditRow } from '../../audit/types.js';
import type { SentNotice } from '../../ledger/notices.js';
import type { UsageScope, UsageSummary, UsageWindow } from '../../ledger/usage-summary.js';
import { csrfField, when, type Html } from './layout.js';

const usd = (w: UsageWindow) => `${formatUsd(w.micros)}${w.openMicros ? ` (+${formatUsd(w.openMicros)} reserved)` : ''}`;
const limit = (micros: number | null) => (micros === null ? 'no limit' : formatUsd(micros));
const tokenLimit = (tokens: number | null) => (tokens === null ? 'no limit' : formatTokens(tokens));

function row(s: UsageScope): Html {
  const over = (w: UsageWindow) => (w.limitMicros !== null && w.micros + w.openMicros >= w.limitMicros ? 'bad' : '');
  return html`<tr><td>${s.name}${s.configured ? '' : ' (removed)'}</td>
<td class="${over(s.day)}">${usd(s.day)}</td><td>${limit(s.day.limitMicros)}</td><td>${formatTokens(s.day.tokens)} / ${tokenLimit(s.day.limitTokens)}</td>
<td class="${over(s.month)}">${usd(s.month)}</td><td>${limit(s.month.limitMicros)}</td><td>${formatTokens(s.month.tokens)} / ${tokenLimit(s.month.limitTokens)}</td></tr>`;
}

/** The numbers of `enclave usage`, a chart of the last days (spend.js), and the budget form. */
export function spendPage(usage: UsageSummary, refusals: readonly AuditRow[], notices: readonly SentNotice[], csrf: string): Html {
  return html`
<table id="usage"><thead><tr><th>Scope</th><th>Today</th><th>Daily limit</th><th>Tokens today</th><th>This month</th><th>Monthly limit</th><th>Tokens this month</th></tr></thead>
<tbody>${usage.groups.map(row)}${row(usage.global)}</tbody></table>
<h2>Daily spend, last 14 days</h2>
<div id="chart" class="chart"></div>
<h2>Refused model calls (latest)</h2>
${refusals.length ? html`<table id="refusals"><thead><tr><th>When</th><th>Group</th><th>Why</th></tr></thead>
<tbody>${[...refusals].reverse().map((r) => html`<tr class="denial"><td>${when(r.at)}</td><td>${r.group ?? ''}</td><td>${typeof r.detail.message === 'string' ? r.detail.message : String(r.detail.reason ?? '')}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">None.</p>`}
<h2>Budget notices sent (latest)</h2>
${notices.length ? html`<table id="notices"><thead><tr><th>When</th><th>Group</th><th>Notice</th><th>Window</th></tr></thead>
<tbody>${notices.map((n) => html`<tr><td>${when(n.sentAt)}</td><td>${n.group}</td><td>${n.level === 'refused' ? 'limit reached, calls refused' : `${n.level}% of a limit`}</td><td>${n.windowKey}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">None.</p>`}
<h2>Change a budget</h2>
<form method="post" action="/actions/budget" class="row">${csrfField(csrf)}
  <label>Scope <select name="scope"><option value="">all groups together</option>${usage.groups.filter((g) => g.configured).map((g) => html`<option>${g.name}</option>`)}</select></label>
  <label>Period <select name="period"><option value="daily">daily</option><option value="monthly">monthly</option></select></label>
  <label>Unit <select name="unit"><option value="usd">USD</option><option value="tokens">tokens</option></select></label>
  <label>Limit <input name="amount" placeholder="2.50, 200k or off" required size="12"></label>
  <button type="submit">Set</button></form>`;
}

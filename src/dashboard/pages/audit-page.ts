import { html } from 'hono/html';
import type { AuditKind } from '../../audit/types.js';
import type { AuditView } from '../operations.js';
import { when, type Html } from './layout.js';

export const AUDIT_KINDS: readonly AuditKind[] = ['model_call', 'model_refused', 'tool_call', 'denial', 'secret_change', 'budget_change', 'access_change', 'group_change', 'task_change', 'team'];
export const AUDIT_SINCE: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export interface AuditQuery {
  group?: string;
  kind?: AuditKind;
  since?: string;
}

const DENIALS = new Set<string>(['denial', 'model_refused']);

/** The newest rows with filters, denials highlighted, and whether the hash chain holds. */
export function auditPage(view: AuditView, groups: readonly string[], query: AuditQuery): Html {
  const v = view.verdict;
  const verdict =
    'verifying' in v
      ? html`<p class="flash" id="chain">Verifying the chain… ${v.rows} rows checked so far; reload the page to see the result.</p>`
      : v.ok
        ? html`<p class="flash ok" id="chain">Chain verified at ${when(v.checkedAt)}: all ${v.rows} rows are intact.</p>`
        : html`<p class="flash bad" id="chain">Chain broken at row ${v.rowId} (checked ${when(v.checkedAt)}): ${v.reason}</p>`;
  const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  return html`${verdict}
<form method="get" action="/audit" class="row">
  <label>Group <select name="group">${option('', 'any', !query.group)}${groups.map((g) => option(g, g, g === query.group))}</select></label>
  <label>Kind <select name="kind">${option('', 'any', !query.kind)}${AUDIT_KINDS.map((k) => option(k, k, k === query.kind))}</select></label>
  <label>Time <select name="since">${option('', 'any time', !query.since)}${Object.keys(AUDIT_SINCE).map((s) => option(s, `last ${s}`, s === query.since))}</select></label>
  <button type="submit">Filter</button></form>
<table id="audit"><thead><tr><th>#</th><th>When</th><th>Kind</th><th>Group</th><th>Actor</th><th>Detail</th></tr></thead>
<tbody>${[...view.rows].reverse().map((r) => html`<tr class="${DENIALS.has(r.kind) ? 'denial' : ''}"><td>${r.id}</td><td>${when(r.at)}</td><td>${r.kind}</td><td>${r.group ?? ''}</td><td>${r.actor ?? ''}</td><td><code>${JSON.stringify(r.detail)}</code></td></tr>`)}</tbody></table>
${view.rows.length === 0 ? html`<p class="muted">No rows match.</p>` : ''}`;
}

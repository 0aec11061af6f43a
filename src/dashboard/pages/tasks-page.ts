import { html } from 'hono/html';
import { describeSchedule } from '../../scheduler/schedule.js';
import type { Task } from '../../scheduler/task-store.js';
import { actionForm, when, type Html } from './layout.js';

function actions(t: Task, csrf: string): Html {
  const change = (action: string, label: string, danger = false) => actionForm('/actions/task', csrf, label, { id: t.id, action }, danger);
  if (t.status === 'active') return html`${change('pause', 'Pause')}${change('cancel', 'Cancel', true)}`;
  if (t.status === 'paused') return html`${change('resume', 'Resume')}${change('cancel', 'Cancel', true)}`;
  return html``;
}

/** Scheduled tasks of every group, with pause, resume and cancel. */
export function tasksPage(tasks: readonly Task[], csrf: string): Html {
  if (tasks.length === 0) return html`<p class="muted">No scheduled tasks.</p>`;
  return html`<table id="tasks"><thead><tr><th>#</th><th>Group</th><th>Status</th><th>Schedule</th><th>Next run</th><th>Last result</th><th>Prompt</th><th></th></tr></thead>
<tbody>${tasks.map((t) => html`<tr data-task="${t.id}"><td>${t.id}</td><td>${t.group}</td><td>${t.status}${t.failures ? ` (${t.failures} failures)` : ''}</td><td>${describeSchedule(t)} (${t.timezone})</td>
<td>${when(t.nextRunAt)}</td><td>${t.lastResult ?? ''}</td><td class="prompt">${t.prompt}</td><td>${actions(t, csrf)}</td></tr>`)}</tbody></table>`;
}

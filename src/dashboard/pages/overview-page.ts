import { html } from 'hono/html';
import type { OverviewView } from '../operations.js';
import { csrfField, when, type Html } from './layout.js';

/** Channels, groups, containers, turns and the last errors; overview.js keeps the tables live. */
export function overviewPage(view: OverviewView, csrf: string): Html {
  return html`
<p>Up since ${when(view.startedAt)}. <span id="live-state" class="muted">live updates connecting…</span></p>
<section class="cards">
  <div class="card"><span class="big" id="turns-running">${view.turnsRunning}</span> turns running</div>
  <div class="card"><span class="big" id="queue-waiting">${view.queueWaiting}</span> groups waiting</div>
</section>
<h2>Channels</h2>
<table id="channels"><thead><tr><th>Channel</th><th>State</th><th>Last event</th><th>Reconnects</th><th>Problem</th></tr></thead>
<tbody>${view.channels.map((ch) => html`<tr><td>${ch.name}</td><td class="${ch.connected ? 'good' : 'bad'}">${ch.connected ? 'connected' : 'down'}</td><td>${when(ch.lastEventAt)}</td><td>${ch.reconnects}</td><td>${ch.error ?? ''}</td></tr>`)}</tbody></table>
<h2>Groups and containers</h2>
<table id="groups"><thead><tr><th>Group</th><th>Container</th><th>Restarts</th><th>Turn</th></tr></thead>
<tbody>${view.groups.map((g) => html`<tr data-group="${g.name}"><td>${g.name}</td><td>${g.container}</td><td>${g.restarts}</td><td class="${g.turnRunning ? 'busy' : ''}">${g.turnRunning ? 'turn running' : 'idle'}</td></tr>`)}</tbody></table>
<form method="post" action="/actions/stop-turn" class="row">${csrfField(csrf)}
  <label>Stop the running turn of <select name="group">${view.groups.map((g) => html`<option>${g.name}</option>`)}</select></label>
  <button type="submit" class="danger">Stop turn</button></form>
<h2>Last errors</h2>
<ul id="errors">${view.errors.length ? view.errors.map((e) => html`<li>${e}</li>`) : html`<li class="muted">No errors.</li>`}</ul>`;
}

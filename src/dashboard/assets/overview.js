/* global document, EventSource */
// Keeps the Overview live from the server-sent events: every value goes in as text, never as HTML.
const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function fill(tbody, rows) {
  tbody.replaceChildren(
    ...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    }),
  );
}

function show(view) {
  document.getElementById('turns-running').textContent = String(view.turnsRunning);
  document.getElementById('queue-waiting').textContent = String(view.queueWaiting);
  fill(document.querySelector('#channels tbody'), view.channels.map((ch) => [
    cell(ch.name), cell(ch.connected ? 'connected' : 'down', ch.connected ? 'good' : 'bad'), cell(when(ch.lastEventAt)), cell(ch.reconnects), cell(ch.error || ''),
  ]));
  fill(document.querySelector('#groups tbody'), view.groups.map((g) => [
    cell(g.name), cell(g.container), cell(g.restarts), cell(g.turnRunning ? 'turn running' : 'idle', g.turnRunning ? 'busy' : ''),
  ]));
  const errors = document.getElementById('errors');
  errors.replaceChildren(...(view.errors.length ? view.errors : ['No errors.']).map((e) => {
    const li = document.createElement('li');
    li.textContent = e;
    if (!view.errors.length) li.className = 'muted';
    return li;
  }));
}

const state = document.getElementById('live-state');
const events = new EventSource('/api/events');
events.addEventListener('open', () => (state.textContent = 'live'));
events.addEventListener('error', () => (state.textContent = 'live updates interrupted; retrying…'));
events.addEventListener('overview', (e) => show(JSON.parse(e.data)));

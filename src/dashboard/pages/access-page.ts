import { html } from 'hono/html';
import type { Pairing } from '../../access/pairing-store.js';
import { actionForm, csrfField, when, type Html } from './layout.js';

/** Strangers waiting with a pairing code, the people approved, and WhatsApp linking when that channel is on. */
export function accessPage(pairings: readonly Pairing[], csrf: string, whatsapp: boolean): Html {
  const pending = pairings.filter((p) => p.status === 'pending');
  const approved = pairings.filter((p) => p.status === 'approved');
  const who = (p: Pairing) => `${p.channel}:${p.senderId}`;
  return html`
<h2>Waiting for approval</h2>
${pending.length ? html`<table id="pending"><thead><tr><th>Person</th><th>Name they gave</th><th>Code</th><th>Expires</th><th></th></tr></thead>
<tbody>${pending.map((p) => html`<tr><td>${who(p)}</td><td>${p.senderName}</td><td><code>${p.code}</code></td><td>${when(p.expiresAt)}</td>
<td>${actionForm('/actions/approve', csrf, 'Approve', { code: p.code })}${actionForm('/actions/revoke', csrf, 'Refuse', { who: who(p) }, true)}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">Nobody is waiting.</p>`}
<form method="post" action="/actions/approve" class="row">${csrfField(csrf)}<label>Approve by code <input name="code" required size="10" autocomplete="off"></label><button type="submit">Approve</button></form>
<h2>Approved people</h2>
${approved.length ? html`<table id="approved"><thead><tr><th>Person</th><th>Name</th><th>Approved</th><th>By</th><th></th></tr></thead>
<tbody>${approved.map((p) => html`<tr><td>${who(p)}</td><td>${p.senderName}</td><td>${when(p.decidedAt)}</td><td>${p.decidedBy ?? ''}</td><td>${actionForm('/actions/revoke', csrf, 'Revoke', { who: who(p) }, true)}</td></tr>`)}</tbody></table>`
    : html`<p class="muted">Nobody is approved yet.</p>`}
${whatsapp ? html`<h2>WhatsApp linking</h2>
<p id="qr-state">While WhatsApp waits to be linked, its QR code shows here and refreshes as it changes. Scan it with WhatsApp on your phone: Settings &gt; Linked devices &gt; Link a device.
Without a camera: stop Enclave and run <code>enclave pair whatsapp --phone &lt;number&gt;</code> on the host for a pairing code instead.</p>
<img id="qr" alt="WhatsApp pairing QR code" width="264" height="264" hidden>` : ''}`;
}

import { html } from 'hono/html';
import type { WriteResult } from '../operations.js';
import { CSRF_FIELD } from '../guards.js';

export type Html = ReturnType<typeof html>;

export const PAGES = [
  { path: '/', title: 'Overview' },
  { path: '/spend', title: 'Spend' },
  { path: '/audit', title: 'Audit' },
  { path: '/groups', title: 'Groups' },
  { path: '/tasks', title: 'Tasks' },
  { path: '/access', title: 'Access' },
] as const;

export interface PageFrame {
  title: string;
  path: string;
  sessionId: string;
  /** The session's CSRF token, for the logout form. */
  csrf: string;
  /** A write's answer, shown once at the top. */
  flash?: WriteResult;
  /** Asset file names of the page's scripts (ES modules). */
  scripts?: string[];
  /** Classic scripts that run first (uPlot defines a global). */
  vendorScripts?: string[];
  styles?: string[];
}

/** The page around the content: navigation, the answer of the last change, scripts by URL only. */
export function layout(frame: PageFrame, body: Html): Html {
  const nav = PAGES.map((p) => html`<a href="${p.path}"${p.path === frame.path ? html` aria-current="page"` : ''}>${p.title}</a>`);
  const flash = frame.flash ? html`<p class="flash ${frame.flash.ok ? 'ok' : 'bad'}" role="status">${frame.flash.message}</p>` : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · Enclave</title>
<link rel="stylesheet" href="/assets/dashboard.css">${(frame.styles ?? []).map((s) => html`<link rel="stylesheet" href="/assets/${s}">`)}
</head><body>
<header><strong>Enclave</strong><nav>${nav}</nav><span class="who">session ${frame.sessionId}</span><span id="logout">${actionForm('/logout', frame.csrf, 'Log out', {})}</span></header>
<main><h1>${frame.title}</h1>${flash}${body}</main>
${(frame.vendorScripts ?? []).map((s) => html`<script src="/assets/${s}"></script>`)}${(frame.scripts ?? []).map((s) => html`<script type="module" src="/assets/${s}"></script>`)}
</body></html>`;
}

/** The hidden field every form carries. */
export function csrfField(token: string): Html {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

/** A form with one button that posts a change. */
export function actionForm(action: string, csrf: string, label: string, fields: Record<string, string | number>, danger = false): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrf)}${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${String(v)}">`)}<button type="submit"${danger ? html` class="danger"` : ''}>${label}</button></form>`;
}

export function when(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function list(items: readonly string[]): string {
  return items.length ? items.join(', ') : '—';
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NEW_KINDS_PER_MINUTE, MAX_SUMMARY_KINDS, ThrottledAudit } from '../../src/audit/throttled-audit.js';
import type { AuditEntry } from '../../src/audit/types.js';

test('refusal rows are capped per group and minute, the rest summed up in one row', () => {
  let now = 1_000_000;
  const rows: AuditEntry[] = [];
  const audit = new ThrottledAudit({ append: (e) => rows.push(e) }, () => now, 3);
  for (let i = 0; i < 10; i++) audit.append({ kind: 'denial', group: 'a', detail: { reason: 'model_not_allowed', n: i } });
  audit.append({ kind: 'denial', group: 'b', detail: {} });
  audit.append({ kind: 'model_call', group: 'a', detail: {} });
  assert.deepEqual(rows.map((r) => `${r.group}:${r.kind}`), ['a:denial', 'a:denial', 'a:denial', 'b:denial', 'a:model_call'], 'other groups and other kinds are not held back');
  now += 60_000;
  audit.append({ kind: 'denial', group: 'a', detail: { n: 'next minute' } });
  const summary = rows.find((r) => r.detail.reason === 'refusal_flood');
  assert.deepEqual(summary?.detail, { reason: 'refusal_flood', suppressed: 7, byKind: { model_not_allowed: 7 }, windowStart: 1_000_000, perMinute: 3 });
  assert.equal(rows.at(-1)!.detail.n, 'next minute');
});

test('past the cap a new kind of refusal is still written in full, and flush() records the count', () => {
  const rows: AuditEntry[] = [];
  const audit = new ThrottledAudit({ append: (e) => rows.push(e) }, () => 0, 2);
  for (let i = 0; i < 5; i++) audit.append({ kind: 'denial', group: 'a', detail: { reason: 'model_not_allowed' } });
  audit.append({ kind: 'denial', group: 'a', detail: { reason: 'refused', tool: 'web_fetch', url: 'http://169.254.169.254/' } });
  audit.append({ kind: 'denial', group: 'a', detail: { reason: 'refused', tool: 'web_fetch', url: 'http://169.254.169.254/' } });
  assert.equal(rows.filter((r) => r.detail.tool === 'web_fetch').length, 1, 'the first metadata probe is in the log');
  audit.flush();
  assert.deepEqual(rows.at(-1)!.detail.byKind, { model_not_allowed: 3, 'refused web_fetch': 1 });
});

test('repeated identical tool calls are aggregated like refusals, on a count of their own', () => {
  let now = 0;
  const rows: AuditEntry[] = [];
  const audit = new ThrottledAudit({ append: (e) => rows.push(e) }, () => now, 3);
  for (let i = 0; i < 10; i++) audit.append({ kind: 'tool_call', group: 'a', detail: { tool: 'list_tasks', outcome: 'ok' } });
  audit.append({ kind: 'tool_call', group: 'a', detail: { tool: 'web_fetch', url: 'http://example.org/', outcome: 'ok' } });
  audit.append({ kind: 'denial', group: 'a', detail: { reason: 'model_not_allowed' } });
  assert.deepEqual(rows.map((r) => `${r.kind}:${String(r.detail.tool ?? r.detail.reason)}`), [
    'tool_call:list_tasks', 'tool_call:list_tasks', 'tool_call:list_tasks', 'tool_call:web_fetch', 'denial:model_not_allowed',
  ], 'a new kind of call and a refusal are still written in full');
  now += 60_000;
  audit.append({ kind: 'tool_call', group: 'a', detail: { tool: 'list_tasks', outcome: 'ok' } });
  const summary = rows.find((r) => r.detail.reason === 'repeated_calls');
  assert.equal(summary?.kind, 'tool_call');
  assert.equal(summary?.group, 'a');
  assert.deepEqual(summary?.detail.byKind, { list_tasks: 7 });
});

test('kinds are host codes only: agent-chosen strings make no new kind, new kinds are capped and the summary keeps at most MAX_SUMMARY_KINDS', () => {
  const rows: AuditEntry[] = [];
  const audit = new ThrottledAudit({ append: (e) => rows.push(e) }, () => 0, 5);
  for (let i = 0; i < 1000; i++) {
    audit.append({ kind: 'denial', group: 'a', detail: { reason: 'not_found', method: 'GET', path: `/enclave/probe-${i}` } });
    audit.append({ kind: 'denial', group: 'a', detail: { tool: 'web_fetch', outcome: 'refused', reason: `http://h${i}.test/ is not allowed`, url: `http://h${i}.test/` } });
    audit.append({ kind: 'denial', group: 'a', detail: { reason: `code_${i}` } });
  }
  const written = rows.length;
  // The first five rows were three kinds (not_found, refused web_fetch, code_0); 17 more codes make 20 kinds.
  assert.equal(written, 5 + MAX_NEW_KINDS_PER_MINUTE - 3, `${written} rows for 3,000 refusals`);
  audit.flush();
  const byKind = rows.at(-1)!.detail.byKind as Record<string, number>;
  assert.ok(Object.keys(byKind).length <= MAX_SUMMARY_KINDS + 1);
  assert.ok(byKind.other! > 0);
  assert.ok(byKind.not_found! > 900 && byKind['refused web_fetch']! > 900);
  assert.equal(Object.values(byKind).reduce((a, b) => a + b, 0), 3000 - written);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History } from '../../src/db/history.js';
import { openDatabase } from '../../src/db/database.js';
import { scrubSecrets } from '../../src/logger.js';

const KEY = 'sk-echoed-0123456789abcdef';

test('history stores no secret value and never hands one back, old rows included', () => {
  const db = openDatabase(':memory:');
  let now = Date.UTC(2030, 0, 1, 12);
  const history = new History(db, { clock: () => now, scrub: (text) => scrubSecrets(text, [KEY]) });
  history.append('g', [
    { role: 'user', content: 'what was the key?' },
    { role: 'assistant', content: `The upstream said: Bearer ${KEY}` },
  ]);
  const rows = db.prepare('SELECT content, created_at FROM history ORDER BY id').all() as { content: string; created_at: number }[];
  assert.deepEqual(rows.map((r) => r.content), ['what was the key?', 'The upstream said: Bearer [redacted]']);
  assert.deepEqual(rows.map((r) => r.created_at), [now, now], 'time comes from the injected clock');

  // A row stored before the scrubber existed is scrubbed on its way back to the agent.
  db.prepare('INSERT INTO history (session_id, role, content, created_at) VALUES (?, ?, ?, ?)').run(history.sessionId('g'), 'assistant', `old: ${KEY}`, now);
  const recent = history.recent('g', 10);
  assert.equal(recent.length, 3);
  assert.ok(recent.every((m) => !m.content.includes(KEY)), JSON.stringify(recent));

  now += 1000;
  history.reset('g');
  const ended = db.prepare('SELECT ended_at FROM sessions').get() as { ended_at: number };
  assert.equal(ended.ended_at, now);
  db.close();
});

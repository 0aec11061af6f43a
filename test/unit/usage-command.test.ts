import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderUsage, runUsage, usageJson } from '../../src/cli/usage-command.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { SqliteLedger } from '../../src/ledger/ledger.js';
import { collectUsage } from '../../src/ledger/usage-summary.js';

// 12:00 UTC: 17:30 in Kolkata, 04:00 in Los Angeles; same local date everywhere the test looks.
const NOW = Date.UTC(2026, 10, 24, 12);
const ANSI = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

function spend(db: Db, group: string, timezone: string, micros: number, tokens: number, open = false): void {
  const ledger = new SqliteLedger({ db, groupLimits: () => ({}), globalLimits: () => ({}), hostTimezone: 'UTC', clock: () => NOW - 3600_000 });
  const r = ledger.reserve({ group, timezone, model: 'm', provider: 'p', micros, tokens });
  assert.ok(r.ok);
  if (!open) ledger.settle({ reservationId: r.reservationId, usage: { inputTokens: tokens, cachedInputTokens: 0, outputTokens: 0 }, micros, outcome: 'ok' });
}

function sample() {
  const db = openDatabase(':memory:');
  spend(db, 'main', 'Asia/Kolkata', 420_000, 12_345);
  spend(db, 'main', 'Asia/Kolkata', 50_000, 10, true);
  spend(db, 'team', 'America/Los_Angeles', 2_000_000, 900);
  spend(db, 'gone', 'UTC', 30_000, 5);
  return collectUsage(db, {
    groups: [
      { name: 'main', timezone: 'Asia/Kolkata', budget: { dailyUsd: 2.5, monthlyUsd: 20 } },
      { name: 'team', timezone: 'America/Los_Angeles', budget: { dailyUsd: 2, dailyTokens: 1000 } },
      { name: 'quiet', timezone: 'UTC', budget: {} },
    ],
    globalLimits: { monthlyUsd: 50 },
    hostTimezone: 'UTC',
    now: NOW,
  });
}

test('usage summary: per group in its zone, groups no longer configured, and all groups', () => {
  const s = sample();
  assert.deepEqual(s.groups.map((g) => [g.name, g.configured, g.day.key, g.day.micros]), [
    ['main', true, '2026-11-24', 420_000],
    ['team', true, '2026-11-24', 2_000_000],
    ['quiet', true, '2026-11-24', 0],
    ['gone', false, '2026-11-24', 30_000],
  ]);
  assert.deepEqual([s.groups[0]!.day.openMicros, s.groups[0]!.day.limitMicros, s.groups[0]!.month.limitMicros], [50_000, 2_500_000, 20_000_000]);
  assert.equal(s.groups[0]!.day.resetsAt, Date.UTC(2026, 10, 24, 18, 30));
  assert.deepEqual([s.global.day.micros, s.global.day.openMicros, s.global.day.limitMicros, s.global.month.limitMicros], [2_450_000, 50_000, null, 50_000_000]);
});

test('plain rendering (not a terminal): ASCII bars, amounts, limits and resets', () => {
  const text = renderUsage(sample(), { tty: false, columns: 200 });
  assert.doesNotMatch(text, ANSI);
  assert.doesNotMatch(text, /[█░]/);
  const lines = text.split('\n');
  const mainDay = lines[lines.indexOf('main (Asia/Kolkata)') + 1]!;
  assert.match(mainDay, /^ {2}today {2}2026-11-24 {2}\[###\.{17}\] {2}\$0\.42 of \$2\.50 +16% {2}resets in 6 h 30 min, \$0\.05 in flight$/);
  const teamDay = lines[lines.indexOf('team (America/Los_Angeles)') + 1]!;
  assert.match(teamDay, /\[#{20}\] {2}\$2\.00 of \$2\.00 +100%/);
  assert.match(lines[lines.indexOf('team (America/Los_Angeles)') + 2]!, /^ {2}tokens +\[#{18}\.{2}\] {2}900 of 1,000 tok +90%$/);
  assert.ok(lines.includes('gone (UTC, no longer configured)'));
  const all = lines.indexOf('all groups (UTC)');
  assert.match(lines[all + 1]!, /\$2\.45 \(no limit\)/);
  assert.doesNotMatch(lines[all + 1]!, /\[/, 'no bar for a total without a limit');
  assert.match(lines[all + 2]!, /month +2026-11 +\[#\.{19}\] {2}\$2\.45 of \$50\.00 +4%/);
});

test('terminal rendering: unicode blocks, colour, and bars that fit the width', () => {
  const narrow = renderUsage(sample(), { tty: true, columns: 80 });
  assert.match(narrow, ANSI);
  assert.match(narrow, /█/);
  const barLines = narrow.split('\n').filter((l) => /[█░]/.test(l));
  for (const line of barLines.filter((l) => !l.includes('in flight'))) assert.ok(line.replace(ANSI, '').length <= 80, line.replace(ANSI, ''));
  const wide = renderUsage(sample(), { tty: true, columns: 200 });
  const barLength = (text: string) => /[█▏▎▍▌▋▊▉░]+/.exec(text.replace(ANSI, ''))![0].length;
  assert.equal(barLength(narrow), 10);
  assert.equal(barLength(wide), 40);
});

test('--json: exact micro-dollars and tokens with ISO times', () => {
  const json = JSON.parse(JSON.stringify(usageJson(sample()))) as ReturnType<typeof usageJson>;
  const main = json.groups.find((g) => g.group === 'main')!;
  assert.deepEqual(main.day, {
    window: '2026-11-24',
    start: '2026-11-23T18:30:00.000Z',
    resetsAt: '2026-11-24T18:30:00.000Z',
    spentMicros: 420_000,
    reservedMicros: 50_000,
    limitMicros: 2_500_000,
    spentUsd: 0.42,
    limitUsd: 2.5,
    tokens: 12_345,
    reservedTokens: 10,
    limitTokens: null,
  });
  assert.equal(json.global.month.limitUsd, 50);
  assert.equal(json.at, '2026-11-24T12:00:00.000Z');
});

test('enclave usage reads the home configuration and database', async () => {
  const home = mkdtempSync(join(tmpdir(), 'enc-usage-'));
  writeFileSync(join(home, 'enclave.yaml'), 'budgets:\n  group: { dailyUsd: 3 }\n  global: { monthlyUsd: 40 }\n');
  for (const [name, yaml] of [['main', 'timezone: Asia/Kolkata\n'], ['team', 'timezone: America/Los_Angeles\nbudget: { dailyUsd: 2 }\n']]) {
    mkdirSync(join(home, 'groups', name), { recursive: true });
    writeFileSync(join(home, 'groups', name, 'group.yaml'), yaml!);
  }
  const db = openDatabase(join(home, 'data', 'enclave.db'));
  spend(db, 'main', 'Asia/Kolkata', 1_500_000, 100);
  db.close();

  let out = '';
  const sink = { write: (t: string) => (out += t), isTTY: false };
  await runUsage({ json: true, home, out: sink, clock: () => NOW });
  const json = JSON.parse(out) as ReturnType<typeof usageJson>;
  const byName = new Map(json.groups.map((g) => [g.group, g]));
  assert.deepEqual([...byName.keys()].sort(), ['main', 'team']);
  assert.deepEqual([byName.get('main')!.day.spentMicros, byName.get('main')!.day.limitMicros, byName.get('team')!.day.limitMicros], [1_500_000, 3_000_000, 2_000_000]);
  assert.equal(json.global.month.limitMicros, 40_000_000);
  assert.equal(json.global.month.spentMicros, 1_500_000);

  out = '';
  await runUsage({ home, out: sink, clock: () => NOW });
  assert.match(out, /main \(Asia\/Kolkata\)\n {2}today {2}2026-11-24 {2}\[#{10}\.{10}\] {2}\$1\.50 of \$3\.00 +50%/);

  const empty = mkdtempSync(join(tmpdir(), 'enc-usage-'));
  out = '';
  await runUsage({ json: true, home: empty, out: sink, clock: () => NOW });
  assert.deepEqual((JSON.parse(out) as ReturnType<typeof usageJson>).groups, []);
});

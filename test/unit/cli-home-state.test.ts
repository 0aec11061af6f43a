import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runGroupsAdd, runGroupsList, runGroupsRemove, runGroupsShow } from '../../src/cli/groups-command.js';
import { openHomeState } from '../../src/cli/home-state.js';
import { runPairList } from '../../src/cli/pair-command.js';

const NOW = Date.parse('2026-03-05T12:00:00Z');

function emptyHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'enc-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

function sink() {
  const lines: string[] = [];
  return { lines, out: { write: (text: string) => lines.push(...text.split('\n').slice(0, -1)) } };
}

test('openHomeState: "create" seeds the home and opens its database; "read" writes nothing', (t) => {
  const home = emptyHome(t);
  const read = openHomeState({ home, mode: 'read' });
  assert.deepEqual([...read.config.groups.keys()], [], 'no default groups were written');
  read.close();
  assert.ok(!existsSync(join(home, 'data')), 'no database file');

  const state = openHomeState({ home, clock: () => NOW });
  assert.deepEqual([...state.config.groups.keys()], ['main']);
  state.audit.append({ kind: 'group_change', actor: 'cli', detail: {} });
  assert.equal(state.audit.tail(1)[0]!.at, NOW, 'the injected clock is the one the audit reads');
  state.close();
  assert.ok(existsSync(join(home, 'data', 'enclave.db')));
});

test('the groups and pair verbs print to the given output and read time from the given clock', async (t) => {
  const home = emptyHome(t);
  const opts = () => ({ home, clock: () => NOW, ...sink() });
  const added = opts();
  await runGroupsAdd('family', 'telegram:-1001', added);
  assert.deepEqual(added.lines, [`Created group family in ${join(home, 'groups', 'family')} for telegram:-1001.`], 'no host runs: nothing more is said');
  const list = opts();
  await runGroupsList(true, list);
  assert.deepEqual((JSON.parse(list.lines[0]!) as { name: string }[]).map((g) => g.name).sort(), ['family', 'main']);
  const show = opts();
  await runGroupsShow('family', show);
  assert.equal(show.lines[2], '  chats:         telegram:-1001');
  const removed = opts();
  await runGroupsRemove('family', removed);
  assert.deepEqual(readdirSync(join(home, 'groups', '.removed')), ['family-2026-03-05T12-00-00-000Z']);
  assert.match(removed.lines[0]!, /^Removed group family; its files \(memory included\) were moved to .*family-2026-03-05T12-00-00-000Z\.$/);
  const pairs = opts();
  await runPairList(false, pairs);
  assert.deepEqual(pairs.lines, ['Nobody is approved or waiting.']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { CHAIN_RECHECK_MS, CHAIN_STEP_ROWS, ChainWatch } from '../../src/dashboard/chain-watch.js';
import { openDatabase } from '../../src/db/database.js';

function setup(rows: number) {
  let now = 1_000_000;
  const db = openDatabase(':memory:');
  // Someone with the database file: the append-only triggers are no obstacle to them.
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
  const audit = new AuditLog(db, () => now);
  for (let i = 0; i < rows; i++) audit.append({ kind: 'tool_call', group: 'main', detail: { i } });
  const steps: (() => void)[] = [];
  const read: number[] = [];
  const source = { verifySince: (...args: Parameters<AuditLog['verifySince']>) => {
    const step = audit.verifySince(...args);
    read.push(step.checkpoint.rows - (args[0]?.rows ?? 0));
    return step;
  } };
  const watch = new ChainWatch(source, () => now, (step) => void steps.push(step));
  const runSteps = () => { while (steps.length > 0) steps.shift()!(); };
  return { db, audit, watch, runSteps, read, advance: (ms: number) => void (now += ms) };
}

test('the first view says "verifying" and walks the log in small steps off the request; later views verify only new rows', () => {
  const { audit, watch, runSteps, read, advance } = setup(CHAIN_STEP_ROWS * 2 + 5);
  assert.deepEqual(watch.state(), { verifying: true, rows: 0 }, 'nothing is verified inside the request');
  runSteps();
  assert.deepEqual(read, [CHAIN_STEP_ROWS, CHAIN_STEP_ROWS, 5]);
  assert.deepEqual({ ...watch.state(), checkedAt: 0 }, { ok: true, rows: CHAIN_STEP_ROWS * 2 + 5, checkedAt: 0 });
  for (let i = 0; i < 3; i++) audit.append({ kind: 'tool_call', detail: { late: i } });
  advance(CHAIN_RECHECK_MS);
  assert.equal((watch.state() as { ok?: boolean }).ok, true, 'the last result is shown while new rows are checked');
  runSteps();
  assert.deepEqual(read.slice(3), [3], 'only the three new rows are read');
  assert.equal((watch.state() as { rows: number }).rows, CHAIN_STEP_ROWS * 2 + 8);
});

test('rows cut off after they were verified, or a new row changed, break the chain', () => {
  const cut = setup(10);
  cut.watch.state();
  cut.runSteps();
  cut.db.prepare('DELETE FROM audit WHERE id >= 9').run();
  cut.advance(CHAIN_RECHECK_MS);
  cut.watch.state();
  cut.runSteps();
  const afterCut = cut.watch.state();
  assert.ok('ok' in afterCut && !afterCut.ok && afterCut.rowId === 10, JSON.stringify(afterCut));

  const changed = setup(10);
  changed.watch.state();
  changed.runSteps();
  changed.audit.append({ kind: 'tool_call', detail: { late: 1 } });
  changed.db.prepare('UPDATE audit SET detail = \'{"late":2}\' WHERE id = 11').run();
  changed.advance(CHAIN_RECHECK_MS);
  changed.watch.state();
  changed.runSteps();
  const afterChange = changed.watch.state();
  assert.ok('ok' in afterChange && !afterChange.ok && afterChange.rowId === 11, JSON.stringify(afterChange));
});

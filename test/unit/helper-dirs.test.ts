import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isHelperName, newHelperName, prepareScratchDir, removeLeftoverHelperDirs, removeScratchDir } from '../../src/container/helper-dirs.js';

test('helper names can never be group names (groups have no dot), and are fresh each time', () => {
  const a = newHelperName();
  assert.match(a, /^h\.[0-9a-f]{10}$/);
  assert.notEqual(a, newHelperName());
  assert.ok(isHelperName(a));
  assert.ok(!isHelperName('helper'), 'a group called "helper" is not a helper');
});

test('a scratch folder: an empty work folder and an empty read-only stand-in, removed whole; the sweep at start removes only helpers\' leftovers', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'enc-scratch-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const scratchRoot = join(root, 'helpers');
  const runDir = join(root, 'run');
  const scratch = await prepareScratchDir(join(scratchRoot, newHelperName()), { uid: 1000, gid: 1000, diskMb: 0 });
  assert.deepEqual(readdirSync(scratch.dir).sort(), ['empty', 'work']);
  assert.deepEqual([readdirSync(scratch.work), readdirSync(scratch.empty)], [[], []]);
  assert.equal(statSync(scratch.dir).mode & 0o777, 0o700);
  writeFileSync(join(scratch.work, 'out.txt'), 'x');
  await removeScratchDir(scratch.dir);
  assert.equal(existsSync(scratch.dir), false);

  // What a killed host leaves, beside things that are not a helper's.
  mkdirSync(join(scratchRoot, 'h.0123456789', 'work'), { recursive: true });
  writeFileSync(join(scratchRoot, 'h.0123456789', 'work', 'f'), 'left');
  mkdirSync(join(scratchRoot, 'keep'), { recursive: true });
  mkdirSync(join(runDir, 'h.0123456789'), { recursive: true });
  mkdirSync(join(runDir, 'main'), { recursive: true });
  assert.equal(await removeLeftoverHelperDirs(scratchRoot, runDir), 1);
  assert.deepEqual([readdirSync(scratchRoot), readdirSync(runDir)], [['keep'], ['main']]);
  assert.equal(await removeLeftoverHelperDirs(join(root, 'missing'), join(root, 'missing-too')), 0, 'no folders yet: nothing to do');
});

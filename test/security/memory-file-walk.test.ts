import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ToolRefusal } from '../../src/tools/host-tool.js';
import { readMemoryFile } from '../../src/tools/memory-file.js';

function folders(t: TestContext) {
  const base = mkdtempSync(join(tmpdir(), 'enclave-walk-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const memory = join(base, 'memory');
  const outside = join(base, 'outside');
  mkdirSync(join(memory, 'sub'), { recursive: true });
  mkdirSync(outside);
  return { memory, outside };
}

/** The agent's move: the moment the host has checked `sub`, it becomes a link to somewhere else. */
function swapFor(memory: string, target: string) {
  return (dir: string) => {
    if (dir !== 'sub') return;
    renameSync(join(memory, 'sub'), join(memory, 'sub-old'));
    symlinkSync(target, join(memory, 'sub'));
  };
}

test('a parent swapped for a link to a host folder after it was checked is not followed: the checked folder is read', (t) => {
  const { memory, outside } = folders(t);
  writeFileSync(join(memory, 'sub', 'f'), 'inside');
  writeFileSync(join(outside, 'f'), 'host secret');
  const file = readMemoryFile(memory, 'sub/f', 1000, swapFor(memory, outside));
  assert.equal(file.bytes.toString(), 'inside', 'looked up in the directory that was opened, not through the new link');
});

test('a parent swapped for a link to /dev never opens a device: the name is looked up in the memory folder only', (t) => {
  const { memory } = folders(t);
  assert.throws(
    () => readMemoryFile(memory, 'sub/null', 1000, swapFor(memory, '/dev')),
    (err: unknown) => err instanceof ToolRefusal && /no file sub\/null in your memory folder/.test(err.message),
    'refused as missing (never opened /dev/null and then found outside)',
  );
});

test('a FIFO outside the memory folder behind a swapped parent is never opened', (t) => {
  const { memory, outside } = folders(t);
  execFileSync('mkfifo', [join(outside, 'pipe')]);
  assert.throws(
    () => readMemoryFile(memory, 'sub/pipe', 1000, swapFor(memory, outside)),
    (err: unknown) => err instanceof ToolRefusal && /no file sub\/pipe/.test(err.message),
  );
});

test('a parent that is a link before the walk is refused as a link', (t) => {
  const { memory, outside } = folders(t);
  writeFileSync(join(outside, 'f'), 'host secret');
  symlinkSync(outside, join(memory, 'out'));
  assert.throws(() => readMemoryFile(memory, 'out/f', 1000), /symbolic link/);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../src/logger.js';

test('the host log on a full disk loses lines but never throws, and writes again once space is back', { skip: process.getuid?.() !== 0 && 'needs root to mount a tiny tmpfs' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'enc-log-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true });
  });
  writeFileSync(join(dir, 'filler'), Buffer.alloc(56 * 1024));
  const log = createLogger({ destination: join(dir, 'enclave.log'), secrets: () => [] });
  assert.doesNotThrow(() => {
    for (let i = 0; i < 100; i++) log.info({ i, pad: 'x'.repeat(100) }, 'a line on a full disk');
  });
  rmSync(join(dir, 'filler'));
  log.info('space is back');
  assert.match(readFileSync(join(dir, 'enclave.log'), 'utf8'), /space is back/);
});

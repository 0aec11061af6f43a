import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { homePaths } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/harness.js';

test('while another instance starts (it holds the lock, its control socket is not up), send and status say the same thing', async (t) => {
  const home = makeHome();
  t.after(() => execFileSync('rm', ['-rf', home]));
  const paths = homePaths(home);
  mkdirSync(dirname(paths.lockFile), { recursive: true });
  // This test process stands for the starting instance: alive, and not the CLI's own pid.
  writeFileSync(paths.lockFile, `${process.pid}\n`);
  const env = { PATH: process.env.PATH, ENCLAVE_HOME: home };

  const status = await runCli(['status'], env);
  const send = await runCli(['send', '-g', 'main', 'hello'], env);
  const starting = new RegExp(`Enclave \\(pid ${process.pid}\\) is starting for ${home.replace(/[.]/g, '\\.')} and does not take messages yet; try again when it prints Ready`);
  assert.equal(status.code, 1);
  assert.match(status.stderr, starting);
  assert.equal(send.code, 1);
  assert.match(send.stderr, starting, 'send does not start a second instance or contradict status');

  writeFileSync(paths.lockFile, '999999999\n');
  const none = await runCli(['status'], env);
  assert.match(none.stderr, /no Enclave is running for/, 'a dead owner\'s lock is not an instance');
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CLI, runCli } from '../helpers/cli.js';

// npm test builds first, and CI's npm ci built once before: this runs after two consecutive builds.
test('the built CLI is executable, so `npx enclave` works after every build', async () => {
  assert.equal(statSync(CLI).mode & 0o111, 0o111, `${CLI} has its execute bits`);
  const { stdout } = await promisify(execFile)(CLI, ['--version'], { env: { PATH: process.env.PATH } });
  assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
});

test('an unknown verb gets "unknown command" and a suggestion, not start\'s argument error', async () => {
  const r = await runCli(['grups', 'list'], { PATH: process.env.PATH, ENCLAVE_HOME: '/nonexistent-enclave-home' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown command 'grups'/);
  assert.match(r.stderr, /Did you mean groups\?/);
  assert.doesNotMatch(r.stderr, /too many arguments/);
});

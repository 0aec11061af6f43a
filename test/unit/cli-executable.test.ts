import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CLI } from '../helpers/cli.js';

// npm test builds first, and CI's npm ci built once before: this runs after two consecutive builds.
test('the built CLI is executable, so `npx enclave` works after every build', async () => {
  assert.equal(statSync(CLI).mode & 0o111, 0o111, `${CLI} has its execute bits`);
  const { stdout } = await promisify(execFile)(CLI, ['--version'], { env: { PATH: process.env.PATH } });
  assert.match(stdout, /^\d+\.\d+\.\d+\n$/);
});

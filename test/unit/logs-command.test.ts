import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatLogLine } from '../../src/cli/logs-command.js';
import { createLogger } from '../../src/logger.js';
import { homePaths } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { CliSession } from '../helpers/cli-session.js';

const TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

test('a pino line reads as time, level, message and the other fields', () => {
  const line = JSON.stringify({ level: 40, time: TIME, pid: 1, hostname: 'h', msg: 'channel down', channel: 'telegram', err: 'connect ECONNREFUSED', attempt: 3, detail: { a: 1 } });
  assert.equal(formatLogLine(line), '2026-01-02 03:04:05.678 WARN  channel down channel=telegram err="connect ECONNREFUSED" attempt=3 detail={"a":1}');
  assert.equal(formatLogLine('not json at all'), 'not json at all', 'a line that is not JSON is shown as it is');
});

test('enclave logs prints the log readably with secrets still scrubbed; without a log it says when one appears', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'enclave-logs-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: home, ENCLAVE_HOME: home };
  const none = await runCli(['logs'], env);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /there is no log yet at .*enclave\.log; it is written once Enclave has started/);

  const secret = 'sk-log-secret-value-123456';
  const log = createLogger({ destination: homePaths(home).logFile, secrets: () => [secret] });
  log.info({ group: 'main', token: 'abc' }, 'first line');
  log.error({ group: 'main' }, `upstream said ${secret}`);
  const shown = await runCli(['logs', '-n', '1'], env);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ERROR upstream said \[redacted\] group=main\n$/);
  const all = await runCli(['logs'], env);
  assert.match(all.stdout, /INFO {2}first line group=main token=\[redacted\]\n/);
  assert.ok(!all.stdout.includes(secret));
});

test('enclave logs -f prints lines appended after it started', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'enclave-logs-f-'));
  const file = homePaths(home).logFile;
  mkdirSync(homePaths(home).dataDir, { recursive: true });
  appendFileSync(file, `${JSON.stringify({ level: 30, time: TIME, msg: 'before follow' })}\n`);
  const session = new CliSession(['logs', '-f'], { PATH: process.env.PATH, HOME: home, ENCLAVE_HOME: home });
  t.after(() => {
    session.kill();
    rmSync(home, { recursive: true, force: true });
  });
  await session.waitForOutput('INFO  before follow');
  appendFileSync(file, `${JSON.stringify({ level: 50, time: TIME, msg: 'appended later', group: 'g1' })}\n`);
  await session.waitForOutput('ERROR appended later group=g1');
  const split = `${JSON.stringify({ level: 30, time: TIME, msg: 'half a line' })}\n`;
  appendFileSync(file, split.slice(0, 20));
  appendFileSync(file, split.slice(20));
  await session.waitForOutput('INFO  half a line');
  assert.equal(session.stdout.match(/before follow/g)!.length, 1, 'nothing is printed twice');
});

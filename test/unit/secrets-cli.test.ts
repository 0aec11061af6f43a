import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openDatabase } from '../../src/db/database.js';
import { homePaths } from '../../src/paths.js';
import { Vault } from '../../src/vault/vault.js';

// The commands are run from the build this test was compiled into (dist/ or a helper's own folder), not via main.ts.
const secretsModule = new URL('../../src/cli/secrets-command.js', import.meta.url).href;
const auditModule = new URL('../../src/cli/audit-command.js', import.meta.url).href;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(code: string, env: NodeJS.ProcessEnv, stdin = ''): Promise<Run> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (exit) => resolve({ code: exit ?? -1, stdout, stderr })));
}

const secrets = (env: NodeJS.ProcessEnv, action: string, name?: string, stdin?: string) =>
  run(`import { runSecrets } from '${secretsModule}'; await runSecrets(${JSON.stringify(action)}, ${JSON.stringify(name)});`, env, stdin);

const audit = (env: NodeJS.ProcessEnv, action: string, opts: object = {}) =>
  run(`import { runAudit } from '${auditModule}'; await runAudit(${JSON.stringify(action)}, ${JSON.stringify(opts)});`, env);

function tempHome(t: TestContext): { home: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'enc-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return { home, env: { PATH: process.env.PATH, ENCLAVE_HOME: home } };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

test('secrets set reads stdin; the value is in no output and no file, only in the vault', async (t) => {
  const { home, env } = tempHome(t);
  const paths = homePaths(home);
  const canary = `sk-cli-canary-${randomBytes(8).toString('hex')}`;

  const first = await secrets(env, 'set', 'OPENAI_API_KEY', 'sk-older-value\n');
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `Saved secret OPENAI_API_KEY (encrypted in ${paths.dbFile})\n`);
  assert.match(first.stderr, /Created the vault key .*vault\.key \(mode 0600\)\. Back it up/);
  assert.equal(statSync(join(paths.dataDir, 'vault.key')).mode & 0o777, 0o600);

  const update = await secrets(env, 'set', 'OPENAI_API_KEY', `${canary}\r\n`);
  assert.equal(update.code, 0, update.stderr);
  assert.equal(update.stderr, '', 'the key already existed');

  const list = await secrets(env, 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^NAME +SET AT +UPDATED AT\nOPENAI_API_KEY +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\n$/);

  const tail = await audit(env, 'tail', { json: true });
  assert.equal(tail.code, 0, tail.stderr);
  const rows = tail.stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; actor: string; detail: object });
  assert.deepEqual(
    rows.map((r) => [r.kind, r.actor, r.detail]),
    [
      ['secret_change', 'cli', { action: 'created', name: 'OPENAI_API_KEY' }],
      ['secret_change', 'cli', { action: 'updated', name: 'OPENAI_API_KEY' }],
    ],
  );

  for (const out of [first, update, list, tail]) assert.ok(!(out.stdout + out.stderr).includes('sk-'), 'a value was printed');
  const written = filesUnder(home);
  assert.ok(written.some((f) => f.endsWith('enclave.db')));
  for (const file of written) assert.ok(!readFileSync(file).includes(canary), `the value is in ${file}`);

  const db = openDatabase(paths.dbFile);
  t.after(() => db.close());
  assert.equal(Vault.open(db, { dataDir: paths.dataDir, env: {} }).get('OPENAI_API_KEY'), canary, 'stored without the newline');
});

test('secrets set refuses a value in the name and an empty stdin; rm says whether it removed anything', async (t) => {
  const { env } = tempHome(t);
  const inArgv = await secrets(env, 'set', 'OPENAI_API_KEY=sk-typed-in-argv', 'sk-stdin\n');
  assert.equal(inArgv.code, 2);
  assert.match(inArgv.stderr, /never taken from the command line; run `enclave secrets set OPENAI_API_KEY`/);
  assert.ok(!inArgv.stderr.includes('sk-typed-in-argv'));

  const empty = await secrets(env, 'set', 'OPENAI_API_KEY', '\n');
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no value given; nothing was saved/);

  assert.equal((await secrets(env, 'set', 'SLACK_TOKEN', 'xoxb-value\n')).code, 0);
  const removed = await secrets(env, 'rm', 'SLACK_TOKEN');
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, 'Removed secret SLACK_TOKEN\n');
  const again = await secrets(env, 'rm', 'SLACK_TOKEN');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /there is no secret named SLACK_TOKEN/);
  assert.match((await secrets(env, 'list')).stdout, /^No secrets stored in /);
});

test('a wrong key fails list with the fix; rm still works so a lost key can be recovered from', async (t) => {
  const { env } = tempHome(t);
  assert.equal((await secrets(env, 'set', 'OPENAI_API_KEY', 'sk-value-1\n')).code, 0);
  const wrongEnv = { ...env, ENCLAVE_VAULT_KEY: randomBytes(32).toString('hex') };
  const list = await secrets(wrongEnv, 'list');
  assert.equal(list.code, 1);
  assert.equal(list.stdout, '', 'no empty list');
  assert.match(list.stderr, /^enclave: the vault key does not match the secrets in .*enclave\.db/);
  assert.match(list.stderr, /Set ENCLAVE_VAULT_KEY to the key used before/);

  const rm = await secrets(wrongEnv, 'rm', 'OPENAI_API_KEY');
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stderr, /removed unread/);
  const fresh = await secrets(wrongEnv, 'set', 'OPENAI_API_KEY', 'sk-value-2\n');
  assert.equal(fresh.code, 0, fresh.stderr);
});

test('audit verify passes, tail is readable, and verify reports a tampered row', async (t) => {
  const { home, env } = tempHome(t);
  assert.equal((await secrets(env, 'set', 'A_KEY', 'value-a\n')).code, 0);
  assert.equal((await secrets(env, 'set', 'B_KEY', 'value-b\n')).code, 0);

  const intact = await audit(env, 'verify');
  assert.equal(intact.code, 0, intact.stderr);
  assert.equal(intact.stdout, 'audit log intact: 2 rows\n');
  const tail = await audit(env, 'tail', { n: 1 });
  assert.match(tail.stdout, /^ +2 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +secret_change +- +cli +action=created name=B_KEY\n$/);

  const db = openDatabase(homePaths(home).dbFile);
  db.exec(`DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{"action":"created","name":"C_KEY"}' WHERE id = 1;`);
  db.close();
  const tampered = await audit(env, 'verify');
  assert.equal(tampered.code, 1);
  assert.equal(tampered.stdout, 'audit log TAMPERED at row 1: its contents were changed after it was written (the hash does not match)\n');
});

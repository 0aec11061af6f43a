import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { vaultKeyFile, VaultKeyError } from '../../src/vault/vault-key.js';
import { removeSecretWithoutKey, resolveSecret, Vault } from '../../src/vault/vault.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'enc-vault-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function memoryDb(t: TestContext): Db {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  return db;
}

const envKey = () => ({ ENCLAVE_VAULT_KEY: randomBytes(32).toString('base64') });

test('set, get, update, list and remove round-trip; created_at survives an update', (t) => {
  const db = memoryDb(t);
  let now = 1_000;
  const vault = Vault.open(db, { dataDir: tempDir(t), env: envKey(), clock: () => now });
  assert.equal(vault.get('OPENAI_API_KEY'), undefined);
  vault.set('OPENAI_API_KEY', 'sk-first-value');
  vault.set('telegram.bot-token', 'ünïcode ✓ value');
  now = 2_000;
  vault.set('OPENAI_API_KEY', 'sk-second-value');
  assert.equal(vault.get('OPENAI_API_KEY'), 'sk-second-value');
  assert.equal(vault.get('telegram.bot-token'), 'ünïcode ✓ value');
  assert.deepEqual(vault.list(), [
    { name: 'OPENAI_API_KEY', createdAt: 1_000, updatedAt: 2_000 },
    { name: 'telegram.bot-token', createdAt: 1_000, updatedAt: 1_000 },
  ]);
  assert.deepEqual(vault.values().sort(), ['sk-second-value', 'ünïcode ✓ value']);
  assert.equal(vault.remove('OPENAI_API_KEY'), true);
  assert.equal(vault.remove('OPENAI_API_KEY'), false);
  assert.equal(vault.get('OPENAI_API_KEY'), undefined);
  assert.deepEqual(vault.values(), ['ünïcode ✓ value']);
});

test('bad names and values are refused without echoing them', (t) => {
  const vault = Vault.open(memoryDb(t), { dataDir: tempDir(t), env: envKey() });
  for (const name of ['', 'has space', 'a/b', 'x'.repeat(65), 'KEY=sk-oops-value']) {
    assert.throws(() => vault.set(name, 'v'), (err: Error) => /invalid secret name/.test(err.message) && !err.message.includes('sk-oops'));
  }
  assert.throws(() => vault.set('EMPTY', ''), /empty/);
  assert.throws(() => vault.set('BIG', 'x'.repeat(16 * 1024 + 1)), /limit is 16384/);
  vault.set('EXACT', 'x'.repeat(16 * 1024));
  assert.deepEqual(vault.list().map((s) => s.name), ['EXACT']);
});

test('the value is not in the database files, only its ciphertext', (t) => {
  const dir = tempDir(t);
  const dbFile = join(dir, 'enclave.db');
  const db = openDatabase(dbFile);
  const canary = `sk-at-rest-${randomBytes(8).toString('hex')}`;
  Vault.open(db, { dataDir: dir, env: {} }).set('CANARY_NAME', canary);
  const onDisk = () => Buffer.concat([dbFile, `${dbFile}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  assert.ok(onDisk().includes('CANARY_NAME'), 'the row is on disk (the check reads the right files)');
  assert.ok(!onDisk().includes(canary), 'the plaintext is on disk');
  db.close();
  assert.ok(readFileSync(dbFile).includes('CANARY_NAME'));
  assert.ok(!readFileSync(dbFile).includes(canary));
  const rawKey = Buffer.from(readFileSync(vaultKeyFile(dir), 'utf8').trim(), 'base64');
  assert.equal(rawKey.length, 32);
  assert.ok(!readFileSync(dbFile).includes(rawKey), 'the key is not stored with the data');
  const reopened = openDatabase(dbFile);
  t.after(() => reopened.close());
  assert.equal(Vault.open(reopened, { dataDir: dir, env: {} }).get('CANARY_NAME'), canary);
});

test('the key file is created 0600 in a 0700 directory, and refused once others may read it', (t) => {
  const dataDir = join(tempDir(t), 'data');
  const db = memoryDb(t);
  const vault = Vault.open(db, { dataDir, env: {} });
  const file = vaultKeyFile(dataDir);
  assert.deepEqual(vault.keySource, { kind: 'file', file, created: true });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  vault.set('A', 'alpha-value');
  assert.deepEqual(Vault.open(db, { dataDir, env: {} }).keySource, { kind: 'file', file, created: false });

  chmodSync(file, 0o644);
  assert.throws(
    () => Vault.open(db, { dataDir, env: {} }),
    (err: Error) => err instanceof VaultKeyError && err.message.includes('mode 0644') && err.message.includes(`chmod 600 ${file}`),
  );
  chmodSync(file, 0o600);
  assert.equal(Vault.open(db, { dataDir, env: {} }).get('A'), 'alpha-value');
});

test('ENCLAVE_VAULT_KEY (base64 or hex) is used instead of a key file; a malformed one is named, not echoed', (t) => {
  const dataDir = tempDir(t);
  const key = randomBytes(32);
  const db = memoryDb(t);
  Vault.open(db, { dataDir, env: { ENCLAVE_VAULT_KEY: key.toString('base64') } }).set('A', 'alpha-value');
  assert.equal(existsSync(vaultKeyFile(dataDir)), false, 'no key file when the key is injected');
  const hexVault = Vault.open(db, { dataDir, env: { ENCLAVE_VAULT_KEY: key.toString('hex') } });
  assert.equal(hexVault.get('A'), 'alpha-value');
  assert.deepEqual(hexVault.keySource, { kind: 'env' });

  for (const bad of ['not-a-key-at-all', randomBytes(16).toString('base64'), '']) {
    assert.throws(
      () => Vault.open(memoryDb(t), { dataDir, env: { ENCLAVE_VAULT_KEY: bad } }),
      (err: Error) =>
        err instanceof VaultKeyError &&
        err.message.includes('ENCLAVE_VAULT_KEY') &&
        /base64 \(44 characters\) or hex \(64 characters\)/.test(err.message) &&
        (bad === '' || !err.message.includes(bad)),
    );
  }
});

test('a wrong key is a clear error at open, never an empty vault; rm without the key is the way out', (t) => {
  const dataDir = tempDir(t);
  const db = memoryDb(t);
  Vault.open(db, { dataDir, env: envKey() }).set('OPENAI_API_KEY', 'sk-right-key-value');
  assert.throws(
    () => Vault.open(db, { dataDir, env: envKey() }),
    (err: Error) =>
      err instanceof VaultKeyError &&
      err.message.includes('does not match the secrets') &&
      /set ENCLAVE_VAULT_KEY to the key used before/i.test(err.message) &&
      err.message.includes('enclave secrets rm NAME') &&
      err.message.includes('OPENAI_API_KEY'),
  );
  assert.throws(() => Vault.open(db, { dataDir, env: {} }), /the vault key is missing/, 'dropping the env key is no way around it');
  assert.equal(existsSync(vaultKeyFile(dataDir)), false, 'no fresh key file was made');

  assert.equal(removeSecretWithoutKey(db, 'OPENAI_API_KEY'), true);
  const fresh = Vault.open(db, { dataDir, env: envKey() });
  assert.deepEqual(fresh.list(), []);
});

test('a missing key file while secrets exist is a clear error, and no new key is made', (t) => {
  const dataDir = tempDir(t);
  const db = memoryDb(t);
  Vault.open(db, { dataDir, env: {} }).set('A', 'alpha-value');
  const file = vaultKeyFile(dataDir);
  unlinkSync(file);
  assert.throws(
    () => Vault.open(db, { dataDir, env: {} }),
    (err: Error) => err instanceof VaultKeyError && err.message.includes('the vault key is missing') && err.message.includes(`Restore ${file}`),
  );
  assert.equal(existsSync(file), false);
});

test('the name is authenticated: ciphertexts swapped between rows do not decrypt', (t) => {
  const db = memoryDb(t);
  const vault = Vault.open(db, { dataDir: tempDir(t), env: envKey() });
  vault.set('A', 'value-of-a');
  vault.set('B', 'value-of-b');
  db.exec(`
    CREATE TEMP TABLE swap AS SELECT name, iv, ciphertext, tag FROM secrets;
    UPDATE secrets SET (iv, ciphertext, tag) = (SELECT iv, ciphertext, tag FROM swap WHERE swap.name = CASE secrets.name WHEN 'A' THEN 'B' ELSE 'A' END);
  `);
  assert.throws(() => vault.get('A'), /cannot be decrypted/);
  assert.throws(() => vault.get('B'), /cannot be decrypted/);
  assert.deepEqual(vault.values(), [], 'unreadable values are skipped, not guessed');
});

test('set and rm write audit rows with the name and action, never the value', (t) => {
  const db = memoryDb(t);
  const audit = new AuditLog(db);
  const vault = Vault.open(db, { dataDir: tempDir(t), env: envKey(), audit, actor: 'cli' });
  vault.set('OPENAI_API_KEY', 'sk-audit-canary-1');
  vault.set('OPENAI_API_KEY', 'sk-audit-canary-2');
  vault.remove('OPENAI_API_KEY');
  vault.remove('OPENAI_API_KEY');
  const rows = audit.tail(10);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.actor, r.detail]),
    [
      ['secret_change', 'cli', { name: 'OPENAI_API_KEY', action: 'created' }],
      ['secret_change', 'cli', { name: 'OPENAI_API_KEY', action: 'updated' }],
      ['secret_change', 'cli', { name: 'OPENAI_API_KEY', action: 'removed' }],
    ],
  );
  assert.ok(!JSON.stringify(db.prepare('SELECT * FROM audit').all()).includes('sk-audit-canary'));
  assert.deepEqual(audit.verify(), { ok: true, rows: 3 });
});

test('a change made through another connection is seen at once', (t) => {
  const dir = tempDir(t);
  const dbFile = join(dir, 'enclave.db');
  const hostDb = openDatabase(dbFile);
  const cliDb = openDatabase(dbFile);
  t.after(() => {
    cliDb.close();
    hostDb.close();
  });
  const host = Vault.open(hostDb, { dataDir: dir, env: {} });
  const cli = Vault.open(cliDb, { dataDir: dir, env: {} });
  assert.deepEqual(host.values(), []);
  cli.set('OPENAI_API_KEY', 'sk-from-the-cli');
  assert.equal(host.get('OPENAI_API_KEY'), 'sk-from-the-cli');
  assert.deepEqual(host.values(), ['sk-from-the-cli']);
  cli.remove('OPENAI_API_KEY');
  assert.deepEqual(host.values(), []);
  cli.set('SLACK_TOKEN', 'xoxb-from-the-cli');
  assert.deepEqual(host.values(), ['xoxb-from-the-cli']);
  hostDb.close();
  assert.deepEqual(host.values(), ['xoxb-from-the-cli'], 'log lines written during shutdown are still scrubbed');
});

test('resolveSecret: the vault first, then the environment variable of the same name', (t) => {
  const vault = Vault.open(memoryDb(t), { dataDir: tempDir(t), env: envKey() });
  const env = { OPENAI_API_KEY: 'sk-from-env', EMPTY: '' };
  assert.equal(resolveSecret('OPENAI_API_KEY', vault, env), 'sk-from-env');
  vault.set('OPENAI_API_KEY', 'sk-from-vault');
  assert.equal(resolveSecret('OPENAI_API_KEY', vault, env), 'sk-from-vault');
  assert.equal(resolveSecret('OPENAI_API_KEY', undefined, env), 'sk-from-env');
  assert.equal(resolveSecret('EMPTY', vault, env), undefined);
  assert.equal(resolveSecret('NOPE', vault, env), undefined);
});

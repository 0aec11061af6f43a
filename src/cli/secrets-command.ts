import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { AuditLog } from '../audit/audit-log.js';
import { openDatabase, type Db } from '../db/database.js';
import { enclaveHome, homePaths } from '../paths.js';
import { VaultKeyError } from '../vault/vault-key.js';
import { assertName, listSecrets, MAX_SECRET_BYTES, removeSecretWithoutKey, Vault } from '../vault/vault.js';
import { fail } from './output.js';

export type SecretsAction = 'set' | 'list' | 'rm';

/**
 * `enclave secrets set|list|rm`. Needs no enclave.yaml: keys can be stored before the configuration is complete.
 * Values are read from stdin only, never from the command line (shell history, `ps`).
 */
export async function runSecrets(action: SecretsAction, name?: string): Promise<void> {
  if (action !== 'list') checkName(name);
  const value = action === 'set' ? await readValue(name!) : undefined;
  const paths = homePaths(enclaveHome());
  let db: Db;
  try {
    db = openDatabase(paths.dbFile);
  } catch (err) {
    fail(err);
  }
  try {
    const audit = new AuditLog(db);
    const open = () => Vault.open(db, { dataDir: paths.dataDir, env: process.env, audit, actor: 'cli' });
    if (action === 'set') {
      const vault = open();
      vault.set(name!, value!);
      process.stdout.write(`Saved secret ${name} (encrypted in ${paths.dbFile})\n`);
      const source = vault.keySource;
      if (source.kind === 'file' && source.created) {
        process.stderr.write(`Created the vault key ${source.file} (mode 0600). Back it up: without it the stored secrets cannot be read.\n`);
      }
    } else if (action === 'list') {
      open();
      process.stdout.write(formatList(listSecrets(db), paths.dbFile));
    } else {
      removeSecret(db, audit, open, name!);
    }
  } catch (err) {
    db.close();
    fail(err);
  }
  db.close();
}

function checkName(name: string | undefined): void {
  if (name === undefined || name === '') fail(new Error('name the secret, e.g. `enclave secrets set OPENAI_API_KEY < key.txt`'), 2);
  if (name.includes('=')) {
    fail(new Error(`secret values are never taken from the command line; run \`enclave secrets set ${name.split('=')[0]}\` and type or pipe the value on stdin`), 2);
  }
  try {
    assertName(name);
  } catch (err) {
    fail(err, 2);
  }
}

/** rm works even when the key is missing or wrong: that is how a vault whose key was lost is emptied. */
function removeSecret(db: Db, audit: AuditLog, open: () => Vault, name: string): void {
  let removed: boolean;
  try {
    removed = open().remove(name);
  } catch (err) {
    if (!(err instanceof VaultKeyError)) throw err;
    removed = removeSecretWithoutKey(db, name, { audit, actor: 'cli' });
    if (removed) process.stderr.write('Note: the vault key is missing or does not match, so the secret was removed unread.\n');
  }
  if (removed) {
    process.stdout.write(`Removed secret ${name}\n`);
  } else {
    process.stderr.write(`enclave: there is no secret named ${name}; nothing was removed\n`);
    process.exitCode = 1;
  }
}

function formatList(secrets: { name: string; createdAt: number; updatedAt: number }[], dbFile: string): string {
  if (secrets.length === 0) return `No secrets stored in ${dbFile}. Add one with: enclave secrets set NAME < value.txt\n`;
  const rows = [['NAME', 'SET AT', 'UPDATED AT'], ...secrets.map((s) => [s.name, stamp(s.createdAt), stamp(s.updatedAt)])];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([n, c, u]) => `${n!.padEnd(width)}  ${c!.padEnd(20)}  ${u}\n`).join('');
}

function stamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

async function readValue(name: string): Promise<string> {
  const raw = process.stdin.isTTY ? await promptHidden(`Value for ${name} (input hidden): `) : await readStdin();
  const value = raw.replace(/[\r\n]+$/, '');
  if (value === '') fail(new Error(`no value given; nothing was saved. Pipe it in: enclave secrets set ${name} < value.txt`), 2);
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) fail(new Error(`the value is larger than ${MAX_SECRET_BYTES} bytes; nothing was saved`), 2);
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_SECRET_BYTES + 2) fail(new Error(`the value is larger than ${MAX_SECRET_BYTES} bytes; nothing was saved`), 2);
      chunks.push(chunk);
    }
  } catch (err) {
    fail(new Error(`cannot read the value from stdin: ${(err as Error).message}`, { cause: err }));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  return new Promise((resolve) => {
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      fail(new Error('cancelled; nothing was saved'), 130);
    });
    rl.once('line', (line) => {
      rl.close();
      process.stderr.write('\n');
      resolve(line);
    });
  });
}

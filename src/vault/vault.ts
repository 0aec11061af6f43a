import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AuditSink } from '../audit/types.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { SecretInfo, SecretStore } from './types.js';
import {
  describeKeySource,
  keyCheck,
  keyIdOf,
  loadVaultKey,
  vaultKeyFile,
  VAULT_KEY_ENV,
  VaultKeyError,
  type VaultKey,
  type VaultKeySource,
} from './vault-key.js';

export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_SECRET_BYTES = 16 * 1024;
const IV_BYTES = 12;

export interface VaultOptions {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  audit?: AuditSink;
  clock?: Clock;
  /** Who changes secrets through this vault, for the audit log: 'cli', 'host', ... Default 'host'. */
  actor?: string;
}

interface SecretRow {
  name: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  key_check: string;
  created_at: number;
  updated_at: number;
}

/** A stored secret that cannot be decrypted: its row was edited, or moved from another name. */
export class SecretUnreadableError extends Error {
  constructor(name: string) {
    super(`the secret ${name} cannot be decrypted: its stored row was altered or copied from another secret. Set it again with \`enclave secrets set ${name}\``);
    this.name = 'SecretUnreadableError';
  }
}

/**
 * Secrets encrypted at rest with AES-256-GCM: a fresh IV per value and the secret's name as additional
 * authenticated data, so a ciphertext moved to another row does not decrypt. Opening with a key other than
 * the one the stored secrets were written with fails loudly instead of showing an empty vault.
 */
export class Vault implements SecretStore {
  private readonly check: string;
  private cache = new Map<string, string | Error>();
  private cachedVersion = -1;

  private constructor(
    private readonly db: Db,
    private readonly vaultKey: VaultKey,
    private readonly opts: VaultOptions,
  ) {
    this.check = keyCheck(vaultKey.key);
  }

  /** Like open(), but a vault that cannot be opened closes the database before the error is thrown. */
  static openOrClose(db: Db, opts: VaultOptions): Vault {
    try {
      return Vault.open(db, opts);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  static open(db: Db, opts: VaultOptions): Vault {
    const stored = storedKeyChecks(db);
    const key = loadVaultKey({ dataDir: opts.dataDir, env: opts.env, create: stored.length === 0 });
    if (!key) throw missingKeyError(db, opts.dataDir);
    const vault = new Vault(db, key, opts);
    vault.assertKeyMatches();
    return vault;
  }

  /** Where the key came from; `created` tells the CLI to remind people to back the new key file up. */
  get keySource(): VaultKeySource {
    return this.vaultKey.source;
  }

  /** The key as text (base64 and hex), so logs and replies are scrubbed of it like any secret. */
  keyTexts(): string[] {
    return [this.vaultKey.key.toString('base64'), this.vaultKey.key.toString('hex')];
  }

  get(name: string): string | undefined {
    const value = this.all().get(name);
    if (value instanceof Error) throw value;
    return value;
  }

  set(name: string, value: string): void {
    assertName(name);
    assertValue(value);
    const now = (this.opts.clock ?? systemClock)();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.vaultKey.key, iv);
    cipher.setAAD(aadFor(name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    this.db
      .transaction(() => {
        this.assertKeyMatches();
        const existed = this.db.prepare('SELECT 1 FROM secrets WHERE name = ?').get(name) !== undefined;
        this.db
          .prepare(
            `INSERT INTO secrets (name, iv, ciphertext, tag, key_check, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET iv = excluded.iv, ciphertext = excluded.ciphertext, tag = excluded.tag,
               key_check = excluded.key_check, updated_at = excluded.updated_at`,
          )
          .run(name, iv, ciphertext, tag, this.check, now, now);
        this.opts.audit?.append({ kind: 'secret_change', actor: this.actor, detail: { name, action: existed ? 'updated' : 'created' } });
      })
      .immediate();
    this.cachedVersion = -1;
  }

  remove(name: string): boolean {
    const removed = removeSecretWithoutKey(this.db, name, { ...this.opts, actor: this.actor });
    this.cachedVersion = -1;
    return removed;
  }

  list(): SecretInfo[] {
    return listSecrets(this.db);
  }

  /** Every readable secret value: the logger scrubs them from each line. */
  values(): string[] {
    return [...this.all().values()].filter((v): v is string => typeof v === 'string');
  }

  private get actor(): string {
    return this.opts.actor ?? 'host';
  }

  /**
   * Decrypted values, reloaded after this vault's own writes and whenever another connection (the CLI, a running
   * host) committed a change. After the database is closed the last values stay, so late log lines are still scrubbed.
   */
  private all(): Map<string, string | Error> {
    if (!this.db.open) return this.cache;
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version === this.cachedVersion) return this.cache;
    const rows = this.db.prepare('SELECT * FROM secrets').all() as SecretRow[];
    this.cache = new Map(rows.map((row) => [row.name, this.decrypt(row)]));
    this.cachedVersion = version;
    return this.cache;
  }

  private decrypt(row: SecretRow): string | Error {
    if (row.key_check !== this.check) {
      return wrongKeyError(this.db, this.vaultKey, [{ check: row.key_check, names: [row.name] }], this.opts.dataDir);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.vaultKey.key, row.iv);
      decipher.setAAD(aadFor(row.name));
      decipher.setAuthTag(row.tag);
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      return new SecretUnreadableError(row.name);
    }
  }

  private assertKeyMatches(): void {
    const foreign = storedKeyChecks(this.db).filter((c) => c.check !== this.check);
    if (foreign.length > 0) throw wrongKeyError(this.db, this.vaultKey, foreign, this.opts.dataDir);
  }
}

/**
 * Removes a secret without needing the key: the way out when the key is lost for good.
 * Vault.remove uses it too, so both paths write the same audit row.
 */
export function removeSecretWithoutKey(db: Db, name: string, opts: { audit?: AuditSink; actor?: string } = {}): boolean {
  return db
    .transaction(() => {
      const removed = db.prepare('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
      if (removed) opts.audit?.append({ kind: 'secret_change', actor: opts.actor ?? 'host', detail: { name, action: 'removed' } });
      return removed;
    })
    .immediate();
}

export function listSecrets(db: Db): SecretInfo[] {
  const rows = db.prepare('SELECT name, created_at, updated_at FROM secrets ORDER BY name').all() as Pick<SecretRow, 'name' | 'created_at' | 'updated_at'>[];
  return rows.map((r) => ({ name: r.name, createdAt: r.created_at, updatedAt: r.updated_at }));
}

/**
 * A provider key (or any secret) by name: the vault first, then the environment variable of the same name,
 * so OPENAI_API_KEY exported in the shell keeps working without `enclave secrets set`.
 */
export function resolveSecret(name: string, vault: SecretStore | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const stored = vault?.get(name);
  if (stored !== undefined) return stored;
  const fromEnv = env[name];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

export function assertName(name: string): void {
  // The name is not echoed: a value typed where the name belongs must not land in an error message.
  if (!SECRET_NAME.test(name)) throw new Error('invalid secret name: use 1 to 64 letters, digits, ".", "-" and "_"');
}

function assertValue(value: string): void {
  if (value === '') throw new Error('the secret value is empty; nothing was saved');
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SECRET_BYTES) throw new Error(`the secret value is ${bytes} bytes; the limit is ${MAX_SECRET_BYTES}`);
}

function aadFor(name: string): Buffer {
  return Buffer.from(`enclave vault v1 secret:${name}`, 'utf8');
}

interface StoredCheck {
  check: string;
  names: string[];
}

function storedKeyChecks(db: Db): StoredCheck[] {
  const rows = db.prepare('SELECT key_check, name FROM secrets ORDER BY name').all() as Pick<SecretRow, 'key_check' | 'name'>[];
  const byCheck = new Map<string, string[]>();
  for (const row of rows) byCheck.set(row.key_check, [...(byCheck.get(row.key_check) ?? []), row.name]);
  return [...byCheck].map(([check, names]) => ({ check, names }));
}

function dbLabel(db: Db): string {
  return db.name === ':memory:' ? 'the database' : db.name;
}

function lostKeyHelp(names: string[]): string {
  const shown = names.length > 8 ? `${names.slice(0, 8).join(', ')}, ...` : names.join(', ');
  return (
    'If that key is lost for good, the stored values cannot be recovered: remove each secret with ' +
    `\`enclave secrets rm NAME\` (this works without the key; stored: ${shown}), then set them again.`
  );
}

function missingKeyError(db: Db, dataDir: string): VaultKeyError {
  const names = storedKeyChecks(db).flatMap((c) => c.names);
  const file = vaultKeyFile(dataDir);
  return new VaultKeyError(
    `the vault key is missing: ${dbLabel(db)} holds ${names.length} encrypted secret(s) but ${file} does not exist and ${VAULT_KEY_ENV} is not set. ` +
      `Enclave will not create a new key, because it could not read those secrets. Restore ${file} from your backup (mode 0600), ` +
      `or set ${VAULT_KEY_ENV} to the key used before. ${lostKeyHelp(names)}`,
  );
}

function wrongKeyError(db: Db, key: VaultKey, foreign: StoredCheck[], dataDir: string): VaultKeyError {
  const names = foreign.flatMap((c) => c.names);
  const ids = foreign.map((c) => keyIdOf(c.check)).join(', ');
  const restore =
    key.source.kind === 'env'
      ? `Set ${VAULT_KEY_ENV} to the key used before${existsSync(vaultKeyFile(dataDir)) ? `, or unset it if they were stored with the key in ${vaultKeyFile(dataDir)}` : ''}`
      : `Restore ${key.source.file} from your backup, or set ${VAULT_KEY_ENV} to the key used before`;
  return new VaultKeyError(
    `the vault key does not match the secrets in ${dbLabel(db)}: they were encrypted with key ${ids}, ` +
      `but the key from ${describeKeySource(key.source)} is ${key.id}. ${restore}. ${lostKeyHelp(names)}`,
  );
}

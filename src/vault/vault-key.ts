import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const VAULT_KEY_ENV = 'ENCLAVE_VAULT_KEY';
export const VAULT_KEY_BYTES = 32;
const KEY_FORMAT = `${VAULT_KEY_BYTES} random bytes as base64 (44 characters) or hex (64 characters), e.g. the output of \`openssl rand -base64 32\``;

/** The vault key is missing, malformed, unsafe or not the one the secrets were stored with. The message says how to fix it. */
export class VaultKeyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'VaultKeyError';
  }
}

export type VaultKeySource = { kind: 'env' } | { kind: 'file'; file: string; created: boolean };

export interface VaultKey {
  key: Buffer;
  source: VaultKeySource;
  /** Short public fingerprint of the key: tells keys apart in messages without revealing them. */
  id: string;
}

export function vaultKeyFile(dataDir: string): string {
  return join(dataDir, 'vault.key');
}

/** A value that proves which key wrote a secret without revealing the key. */
export function keyCheck(key: Buffer): string {
  return createHmac('sha256', key).update('enclave vault key check v1').digest('hex');
}

export function keyIdOf(check: string): string {
  return check.slice(0, 8);
}

/** Where the key comes from, as people should read it in an error. */
export function describeKeySource(source: VaultKeySource): string {
  return source.kind === 'env' ? VAULT_KEY_ENV : source.file;
}

/**
 * The key from ENCLAVE_VAULT_KEY, else from <dataDir>/vault.key. When neither exists and `create` is set,
 * a new key file is written (0600, in a 0700 directory); otherwise undefined is returned.
 */
export function loadVaultKey(opts: { dataDir: string; env: NodeJS.ProcessEnv; create: boolean }): VaultKey | undefined {
  const fromEnv = opts.env[VAULT_KEY_ENV];
  if (fromEnv !== undefined) {
    return withId(parseKey(fromEnv, `${VAULT_KEY_ENV} is set but is not a valid vault key`), { kind: 'env' });
  }
  const file = vaultKeyFile(opts.dataDir);
  const existing = readKeyFile(file);
  if (existing) return withId(existing, { kind: 'file', file, created: false });
  if (!opts.create) return undefined;
  const created = createKeyFile(opts.dataDir, file);
  return withId(created.key, { kind: 'file', file, created: created.created });
}

function withId(key: Buffer, source: VaultKeySource): VaultKey {
  return { key, source, id: keyIdOf(keyCheck(key)) };
}

/** Accepts base64 (standard or URL-safe) or hex of exactly 32 bytes; never echoes the text it was given. */
export function parseKey(text: string, what: string): Buffer {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed, 'base64');
    if (key.length === VAULT_KEY_BYTES) return key;
  }
  const got = trimmed === '' ? 'it is empty' : `got ${trimmed.length} characters`;
  throw new VaultKeyError(`${what}: expected ${KEY_FORMAT}; ${got}`);
}

function readKeyFile(file: string): Buffer | undefined {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (!st.isFile()) throw new VaultKeyError(`the vault key file ${file} is not a regular file; move it away or set ${VAULT_KEY_ENV}`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new VaultKeyError(
      `the vault key file ${file} has mode ${mode.toString(8).padStart(4, '0')}, so other users may read it; ` +
        `Enclave refuses to use it. Fix: chmod 600 ${file} (and consider the secrets exposed if others could log in here)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VaultKeyError(`cannot read the vault key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseKey(text, `the vault key file ${file} is damaged`);
}

/** Writes a fresh key with O_EXCL: if another process wins the race, its key is the one used. */
function createKeyFile(dataDir: string, file: string): { key: Buffer; created: boolean } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(VAULT_KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const theirs = readKeyFile(file);
      if (theirs) return { key: theirs, created: false };
    }
    throw new VaultKeyError(`cannot create the vault key file ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { key, created: true };
}

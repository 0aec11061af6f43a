import { createHash } from 'node:crypto';

/** The prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns a row's hash covers, exactly as stored (detail is the stored JSON text). */
export interface HashedFields {
  id: number;
  at: number;
  kind: string;
  group: string | null;
  actor: string | null;
  detail: string;
}

/** JSON with object keys sorted at every depth, so equal values always serialise to the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const plain = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(plain)
        .sort()
        .filter((k) => plain[k] !== undefined)
        .map((k) => [k, sortKeys(plain[k])]),
    );
  }
  return value;
}

/** sha256(prev_hash + canonical JSON of the row): editing, dropping or moving any row breaks the chain. */
export function auditRowHash(prevHash: string, row: HashedFields): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(row)).digest('hex');
}

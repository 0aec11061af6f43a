import { scrubSecrets } from '../logger.js';
import { canonicalJson } from './audit-hash.js';

export const MAX_DETAIL_CHARS = 8 * 1024;
const MAX_STRING_CHARS = 1024;
const REDACTED = '[redacted]';

/** Keys whose values are credentials wherever they appear ("tokens" counts are fine, "botToken" is not). */
const SECRET_KEY = /^(authorization|proxyauthorization|cookie|setcookie|passwd|passphrase|privatekey|credentials?|.*(token|apikey|password|secret|vaultkey|accesskey|secretkey))$/;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_\s]/g, ''));
}

/**
 * Defence in depth for the audit log, which must never hold a secret: values under credential-like keys and
 * known secret values are redacted, bearer tokens are masked, long strings are cut and the whole detail is capped.
 * Never throws: a detail that is not JSON is replaced by a note, so auditing cannot break the audited action.
 */
export function sanitizeDetail(detail: Record<string, unknown>, secrets: readonly string[] = []): Record<string, unknown> {
  let plain: unknown;
  try {
    plain = JSON.parse(JSON.stringify(detail ?? {})) as unknown;
  } catch {
    return { unrecordable: 'the detail was not plain JSON' };
  }
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return { value: clean(plain, secrets) };
  const cleaned = clean(plain, secrets) as Record<string, unknown>;
  const size = canonicalJson(cleaned).length;
  if (size <= MAX_DETAIL_CHARS) return cleaned;
  return { truncated: true, chars: size, keys: Object.keys(cleaned).slice(0, 32) };
}

function clean(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return cleanString(value, secrets);
  if (Array.isArray(value)) return value.map((v) => clean(v, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, isSecretKey(k) && v !== null ? REDACTED : clean(v, secrets)]),
    );
  }
  return value;
}

function cleanString(text: string, secrets: readonly string[]): string {
  const scrubbed = scrubSecrets(text, secrets).replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`);
  if (scrubbed.length <= MAX_STRING_CHARS) return scrubbed;
  return `${scrubbed.slice(0, MAX_STRING_CHARS)}... [${scrubbed.length - MAX_STRING_CHARS} more characters]`;
}

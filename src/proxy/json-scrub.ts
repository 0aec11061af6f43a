import { scrubbableSecrets, scrubText } from './text-scrubber.js';

function scrubValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a "__proto__" key stays a plain key.
      Object.defineProperty(out, scrubText(key, secrets), { value: scrubValue(item, secrets), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/**
 * A JSON value with every secret replaced in every string, keys included, at any depth. It works
 * on decoded strings, so no JSON spelling of a secret (\u escapes, escaped "/") gets past it.
 */
export function scrubJsonStrings(value: unknown, secrets: readonly string[]): unknown {
  return scrubValue(value, scrubbableSecrets(secrets));
}

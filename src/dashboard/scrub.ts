import { MIN_SECRET_CHARS, scrubSecrets as scrubSecretValues } from '../logger.js';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const escapeJson = (text: string): string => JSON.stringify(text).slice(1, -1);

/** Every form a secret can take in an answer: as is, HTML-escaped, JSON-escaped, and JSON- then HTML-escaped. */
export function secretForms(value: string): string[] {
  const json = escapeJson(value);
  return [...new Set([value, escapeHtml(value), json, escapeHtml(json)])].sort((a, b) => b.length - a.length);
}

/** Replaces each form of each secret value in the text with `[redacted]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return scrubSecretValues(text, secrets.filter((v) => v.length >= MIN_SECRET_CHARS).flatMap(secretForms));
}

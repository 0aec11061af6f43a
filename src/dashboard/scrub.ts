/** The shortest secret value scrubbed: shorter ones would blank out ordinary words. */
const MIN_SECRET_LENGTH = 8;

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
  let out = text;
  for (const value of secrets) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    for (const form of secretForms(value)) out = out.split(form).join('[redacted]');
  }
  return out;
}

/** Control and format characters (newlines, escapes, NUL, bidi overrides, zero-width marks) and line separators. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * Agent-written text (a task title, a board value) made safe to show on one line in a chat or a
 * terminal: no escape sequences, no bidi overrides that would reorder what is around it, and capped.
 */
export function displayText(text: string, max = 80): string {
  const plain = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  return plain.length > max ? `${plain.slice(0, max - 1)}…` : plain;
}

import type { SniffedType } from './sniff.js';

/** Longest name, in UTF-8 bytes, a staged file may have (file systems stop at 255). */
export const MAX_FILE_NAME_BYTES = 120;

/** Control and format characters (newlines, NUL, bidi overrides…), path separators and characters Windows refuses. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}/\\<>:"|?*]/gu;

function capBytes(text: string, maxBytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

function cleanStem(stem: string): string {
  return stem
    .replace(UNSAFE, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
}

/**
 * A name safe to create in the inbox folder and to show the agent: the last path segment of what the
 * sender claimed, no separators, no `..`, no control characters, no leading dot, at most
 * MAX_FILE_NAME_BYTES, and an extension that matches the sniffed type (the claimed one when it does,
 * the type's default otherwise). `fallback` names a file that had no usable name ("photo", "voice-note").
 */
export function safeFileName(claimed: string | undefined, type: SniffedType, fallback: string): string {
  const lastSegment = (claimed ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  const dot = lastSegment.lastIndexOf('.');
  const claimedExt = dot > 0 ? lastSegment.slice(dot + 1).toLowerCase() : '';
  const keepsExt = type.extensions.includes(claimedExt);
  const ext = keepsExt ? claimedExt : (type.extensions[0] ?? 'bin');
  const rawStem = dot > 0 ? lastSegment.slice(0, dot) : lastSegment;
  const stemSource = keepsExt || dot <= 0 ? rawStem : lastSegment;
  const stem = cleanStem(capBytes(cleanStem(stemSource), MAX_FILE_NAME_BYTES - ext.length - 1)) || cleanStem(fallback) || 'file';
  return `${stem}.${ext}`;
}

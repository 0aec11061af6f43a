import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino must never print, whatever object they appear in. */
export const REDACT_PATHS = [
  'apiKey',
  'key',
  'token',
  'secret',
  'password',
  'authorization',
  'Authorization',
  '*.apiKey',
  '*.key',
  '*.token',
  '*.secret',
  '*.password',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export interface LoggerOptions {
  level?: string;
  /** A file path, or 2 for stderr. */
  destination?: string | 2;
  /** Exact secret values to scrub from every line, however they got there. */
  secrets?: () => readonly string[];
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const target = opts.destination ?? 2;
  if (typeof target === 'string') mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  // maxLength: while the disk is full, unwritten lines wait in memory up to this much, then are dropped.
  const dest = pino.destination({ dest: target, sync: true, mode: 0o600, maxLength: 4 * 1024 * 1024 });
  const secrets = opts.secrets;
  const stream = {
    write: (line: string) => {
      try {
        dest.write(secrets ? scrubSecrets(line, secrets()) : line);
      } catch {
        // A full disk: the line is lost, the host lives on (storage health reports the disk).
      }
    },
  };
  dest.on('error', () => undefined);
  return pino(
    {
      level: opts.level ?? process.env.ENCLAVE_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    stream,
  );
}

/** Shorter values are not scrubbed: they would match ordinary text. */
export const MIN_SECRET_CHARS = 8;
export const REDACTED = '[redacted]';

/**
 * Every secret value (of at least MIN_SECRET_CHARS) replaced in the text, longest first so a secret
 * that contains another is not left in pieces. The one text scrubber: log, outbox, proxy, dashboard.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const present = secrets.filter((s) => s.length >= MIN_SECRET_CHARS && text.includes(s));
  if (present.length === 0) return text;
  let out = text;
  for (const s of present.sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  return out;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

import { ConfigError } from '../config/errors.js';
import { loadConfig, seedHome } from '../config/load.js';

/** Validates the configuration before anything (log file, database) is written; exits on a problem. */
export function checkConfig(home: string): void {
  try {
    seedHome(home);
    loadConfig(home);
  } catch (err) {
    fail(err);
  }
}

export function progressPrinter(out: NodeJS.WritableStream): (line: string) => void {
  return (line) => out.write(`${line}\n`);
}

/** Prints an error a person can act on (no stack trace) and exits non-zero. */
export function fail(err: unknown, code = 1): never {
  const e = err as Error;
  const text = e instanceof ConfigError ? `configuration error in ${e.message}` : e.message;
  process.stderr.write(`enclave: ${text}\n`);
  process.exit(code);
}

import { ConfigError } from '../config/errors.js';
import { loadConfig, seedHome, type Config } from '../config/load.js';

/** Validates the configuration before anything (log file, database) is written; exits on a problem. */
export function checkConfig(home: string): Config {
  try {
    seedHome(home);
    return loadConfig(home);
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

/** One line to stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

import { ConfigError } from '../config/errors.js';

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

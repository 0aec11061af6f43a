/** A configuration problem a person can fix: where it is and what to do. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${problem}. Fix: ${fix}`);
    this.name = 'ConfigError';
  }
}

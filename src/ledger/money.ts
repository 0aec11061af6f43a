/** Money is counted in integer micro-dollars everywhere; floats appear only at the edges (config, JSON). */
export const MICROS_PER_USD = 1_000_000;

/** Largest amount of USD a person may type as a limit; keeps every sum a safe integer. */
export const MAX_USD = 1_000_000;

/** A config value such as 2.5 (USD) in micro-dollars. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

/**
 * "$2.50", "$1,234.05", "$0.0123", "$0.000012". Amounts are truncated, never rounded up, so a
 * sentence never claims more was spent than was.
 */
export function formatUsd(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(micros));
  const whole = Math.floor(abs / MICROS_PER_USD);
  const fraction = abs % MICROS_PER_USD;
  const dollars = whole.toLocaleString('en-US');
  if (whole > 0 || fraction % 10_000 === 0) return `${sign}$${dollars}.${pad(Math.floor(fraction / 10_000), 2)}`;
  if (fraction >= 100) return `${sign}$0.${pad(Math.floor(fraction / 100), 4)}`;
  return `${sign}$0.${pad(fraction, 6)}`;
}

/** "2.50", "$20", ".5" -> micro-dollars, exactly; undefined for anything else (negative, > 6 decimals, text). */
export function parseUsd(text: string): number | undefined {
  const match = /^\$?(\d*)(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!match || (match[1] === '' && match[2] === undefined)) return undefined;
  const whole = Number(match[1] || '0');
  if (whole > MAX_USD) return undefined;
  return whole * MICROS_PER_USD + Number((match[2] ?? '').padEnd(6, '0'));
}

export function formatTokens(tokens: number): string {
  return `${Math.trunc(tokens).toLocaleString('en-US')} tokens`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

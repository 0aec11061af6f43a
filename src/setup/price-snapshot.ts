import type { ModelPriceConfig } from '../config/schema.js';

/**
 * A SNAPSHOT of list prices (USD per 1M tokens) that `enclave setup` offers as defaults. Prices change:
 * the wizard shows this date and asks the user to check the provider's price page. Never used at run
 * time: what counts is what enclave.yaml says.
 */
export const PRICE_SNAPSHOT_DATE = '2025-10-01';

export const PRICE_SNAPSHOT: Readonly<Record<string, ModelPriceConfig>> = {
  'gpt-4o-mini': { input: 0.15, cachedInput: 0.075, output: 0.6 },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10 },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8 },
  'gpt-4.1-mini': { input: 0.4, cachedInput: 0.1, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10 },
  'gpt-5-mini': { input: 0.25, cachedInput: 0.025, output: 2 },
  'gpt-5-nano': { input: 0.05, cachedInput: 0.005, output: 0.4 },
  'o4-mini': { input: 1.1, cachedInput: 0.275, output: 4.4 },
  'claude-sonnet-4-5': { input: 3, cachedInput: 0.3, output: 15 },
  'claude-haiku-4-5': { input: 1, cachedInput: 0.1, output: 5 },
  'claude-opus-4-1': { input: 15, cachedInput: 1.5, output: 75 },
  'gemini-2.5-flash': { input: 0.3, cachedInput: 0.075, output: 2.5 },
  'gemini-2.5-flash-lite': { input: 0.1, cachedInput: 0.025, output: 0.4 },
  'gemini-2.5-pro': { input: 1.25, cachedInput: 0.31, output: 10 },
  'meta-llama/llama-3.3-70b-instruct': { input: 0.13, output: 0.4 },
  'llama-3.3-70b-versatile': { input: 0.59, output: 0.79 },
  'llama-3.1-8b-instant': { input: 0.05, output: 0.08 },
  'mistral-small-latest': { input: 0.1, output: 0.3 },
  'mistral-medium-latest': { input: 0.4, output: 2 },
  'mistral-large-latest': { input: 2, output: 6 },
};

export function snapshotPrice(model: string): ModelPriceConfig | undefined {
  return PRICE_SNAPSHOT[model];
}

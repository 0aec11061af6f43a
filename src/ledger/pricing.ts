import type { ProviderConfig } from '../config/schema.js';
import type { ModelPrice, TokenUsage } from './types.js';

/*
 * Prices are USD per one million tokens and money is counted in micro-dollars, so the cost of
 * n tokens at price p is exactly n * p micros.
 */

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** The provider's own price for the model, else the top-level one; undefined means refuse. */
export function priceFor(provider: ProviderConfig, model: string, globalPrices: PriceTable): ModelPrice | undefined {
  return Object.hasOwn(provider.prices, model) ? provider.prices[model] : Object.hasOwn(globalPrices, model) ? globalPrices[model] : undefined;
}

function keySegment(model: string): string {
  return /^[A-Za-z0-9_-]+$/.test(model) ? `.${model}` : `[${JSON.stringify(model)}]`;
}

/**
 * For people: which enclave.yaml key to set. providerIndex is the provider's place in
 * enclave.yaml `providers`; leave it out for a provider that is not listed there (OPENAI_API_KEY).
 */
export function missingPriceMessage(model: string, providerIndex?: number): string {
  const where = providerIndex === undefined
    ? `prices${keySegment(model)}`
    : `providers[${providerIndex}].prices${keySegment(model)} (or prices${keySegment(model)})`;
  return `no price configured for model ${model}: set ${where} in enclave.yaml — 0 is fine for local models`;
}

/** Rounds up to whole micros, ignoring float noise below a thousandth of a micro. */
function ceilMicros(exact: number): number {
  return Math.ceil(Math.round(exact * 1000) / 1000);
}

/** The most a call can cost: every prompt token uncached, every allowed output token used. */
export function worstCaseMicros(promptTokens: number, maxOutputTokens: number, price: ModelPrice): number {
  const input = Math.max(price.input, price.cachedInput ?? 0);
  return ceilMicros(promptTokens * input + maxOutputTokens * price.output);
}

export function costMicros(usage: TokenUsage, price: ModelPrice): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  return ceilMicros(
    (usage.inputTokens - cached) * price.input + cached * (price.cachedInput ?? price.input) + usage.outputTokens * price.output,
  );
}

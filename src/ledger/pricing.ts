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

/**
 * Defaults above what any provider we know charges per 512×512 tile and per image (gpt-4o-mini:
 * 5667 a tile + 2833), so a vision model without its own image prices is never under-reserved.
 */
export const DEFAULT_IMAGE_TOKENS_PER_TILE = 6000;
export const DEFAULT_IMAGE_BASE_TOKENS = 3000;

/** Prompt tokens reserved for a request's images at this model's own image prices. */
export function imagePromptTokens(price: ModelPrice, images: { count: number; tiles: number }): number {
  if (images.count === 0) return 0;
  return images.count * (price.imageBaseTokens ?? DEFAULT_IMAGE_BASE_TOKENS) + images.tiles * (price.imageTokensPerTile ?? DEFAULT_IMAGE_TOKENS_PER_TILE);
}

/** The output tokens a call may produce: the request's cap, or the model's own maximum when that is larger. */
export function outputAllowance(requestCap: number, price: ModelPrice): number {
  return Math.max(requestCap, price.maxOutputTokens ?? 0);
}

/**
 * Whether calls to a model must wait for the owner: one of them used more tokens than it
 * reserved (its max_tokens did not cap hidden reasoning) and `maxOutputTokens` is not yet set at
 * least as high as the output it had.
 */
export function outputUnbounded(largestOverrunOutput: number | undefined, price: ModelPrice): boolean {
  return largestOverrunOutput !== undefined && (price.maxOutputTokens ?? 0) < largestOverrunOutput;
}

function yamlKey(model: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(model) ? model : JSON.stringify(model);
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(n, 1024)));
}

/** For people: why the model is refused and the YAML line that lifts the refusal. */
export function unboundedOutputMessage(model: string, price: ModelPrice, largestOutput: number, providerIndex?: number): string {
  const where = providerIndex === undefined ? 'top-level prices' : `providers[${providerIndex}].prices (or the top-level prices)`;
  const entry = { input: price.input, ...(price.cachedInput === undefined ? {} : { cachedInput: price.cachedInput }), output: price.output, maxOutputTokens: nextPowerOfTwo(largestOutput) };
  const fields = Object.entries(entry).map(([k, v]) => `${k}: ${v}`).join(', ');
  return (
    `a call to model ${model} produced ${largestOutput} output tokens, more than it reserved (its max_tokens does not cap its hidden reasoning), ` +
    `so calls to it are refused until the most output tokens one call can produce is set. In enclave.yaml ${where}, write:\n` +
    `  ${yamlKey(model)}: { ${fields} }\n` +
    `using the provider's documented maximum (output and reasoning together) if it is larger, then restart Enclave.`
  );
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

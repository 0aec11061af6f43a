import type { TokenUsage } from './types.js';

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
}

function cachedCount(details: unknown): number | undefined {
  return isObject(details) ? count(details.cached_tokens) : undefined;
}

function reasoningCount(details: unknown): number | undefined {
  return isObject(details) ? count(details.reasoning_tokens) : undefined;
}

/**
 * The output a call was billed for. Some providers leave hidden reasoning out of
 * completion_tokens and report it only in the total or the details, so the largest reading wins.
 */
function billedOutput(raw: Fields, inputTokens: number, reported: number): number {
  const total = count(raw.total_tokens);
  return Math.max(
    reported,
    total === undefined ? 0 : total - inputTokens,
    reasoningCount(raw.completion_tokens_details) ?? 0,
    reasoningCount(raw.output_tokens_details) ?? 0,
  );
}

/**
 * Token counts from a provider's `usage` object, in chat-completions names (prompt_tokens,
 * completion_tokens, prompt_tokens_details.cached_tokens) or Responses names (input_tokens,
 * output_tokens, input_tokens_details.cached_tokens). Undefined unless both the input and the
 * output count are usable numbers: a half-reported usage is treated as no usage (the
 * reservation is charged) rather than undercharged. The output is the largest of the reported
 * output, the total minus the input, and the reasoning tokens (chat-completions
 * completion_tokens_details, Responses output_tokens_details).
 */
export function usageFromApi(raw: unknown): TokenUsage | undefined {
  if (!isObject(raw)) return undefined;
  const inputTokens = count(raw.prompt_tokens) ?? count(raw.input_tokens);
  const outputTokens = count(raw.completion_tokens) ?? count(raw.output_tokens);
  if (inputTokens === undefined || outputTokens === undefined) return undefined;
  const cached = cachedCount(raw.prompt_tokens_details) ?? cachedCount(raw.input_tokens_details) ?? 0;
  return { inputTokens, cachedInputTokens: Math.min(cached, inputTokens), outputTokens: billedOutput(raw, inputTokens, outputTokens) };
}

export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens;
}

export const NO_USAGE: TokenUsage = Object.freeze({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0 });

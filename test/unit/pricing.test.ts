import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderConfig } from '../../src/config/schema.js';
import { costMicros, missingPriceMessage, priceFor, worstCaseMicros } from '../../src/ledger/pricing.js';
import { usageFromApi } from '../../src/ledger/usage.js';
import { SseUsageTap } from '../../src/proxy/usage-tap.js';

const provider = (prices: ProviderConfig['prices']): ProviderConfig => ({ name: 'p', baseUrl: 'http://127.0.0.1:1/v1', prices, timeoutSeconds: 5 });

test('a provider\'s own price wins over the top-level one; no price anywhere is undefined', () => {
  const own = { input: 1, output: 2 };
  const global = { input: 5, output: 6 };
  assert.deepEqual(priceFor(provider({ m: own }), 'm', { m: global }), own);
  assert.deepEqual(priceFor(provider({}), 'm', { m: global }), global);
  assert.equal(priceFor(provider({}), 'm', {}), undefined);
  assert.equal(priceFor(provider({}), 'constructor', {}), undefined, 'object prototype names are not prices');
  assert.deepEqual(priceFor(provider({ free: { input: 0, output: 0 } }), 'free', {}), { input: 0, output: 0 });
});

test('the missing-price message names the key to set', () => {
  assert.equal(missingPriceMessage('gpt-4o', 2), 'no price configured for model gpt-4o: set providers[2].prices.gpt-4o (or prices.gpt-4o) in enclave.yaml — 0 is fine for local models');
  assert.equal(missingPriceMessage('gpt-4.1'), 'no price configured for model gpt-4.1: set prices["gpt-4.1"] in enclave.yaml — 0 is fine for local models');
});

test('worst case and real cost in whole micros, rounded up but not by float noise', () => {
  // USD per 1M tokens == micros per token.
  assert.equal(worstCaseMicros(1000, 500, { input: 2.5, output: 10 }), 2500 + 5000);
  assert.equal(worstCaseMicros(10, 0, { input: 1, cachedInput: 3, output: 1 }), 30, 'never below the dearer input price');
  assert.equal(worstCaseMicros(3, 0, { input: 0.15, output: 0 }), 1, '0.45 micros is charged as 1');
  assert.equal(costMicros({ inputTokens: 100, cachedInputTokens: 0, outputTokens: 0 }, { input: 1.1, output: 0 }), 110, '100 x 1.1 is 110, not 111');
  assert.equal(costMicros({ inputTokens: 1000, cachedInputTokens: 800, outputTokens: 50 }, { input: 2, cachedInput: 0.5, output: 8 }), 200 * 2 + 800 * 0.5 + 50 * 8);
  assert.equal(costMicros({ inputTokens: 1000, cachedInputTokens: 800, outputTokens: 0 }, { input: 2, output: 8 }), 2000, 'no cached price: cached tokens at the input price');
  assert.equal(costMicros({ inputTokens: 5, cachedInputTokens: 0, outputTokens: 5 }, { input: 0, output: 0 }), 0);
});

test('usage is read in chat-completions and Responses names; garbage is no usage', () => {
  assert.deepEqual(usageFromApi({ prompt_tokens: 10, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 6 } }), { inputTokens: 10, cachedInputTokens: 6, outputTokens: 4 });
  assert.deepEqual(usageFromApi({ input_tokens: 9, output_tokens: 2, input_tokens_details: { cached_tokens: 1 } }), { inputTokens: 9, cachedInputTokens: 1, outputTokens: 2 });
  assert.deepEqual(usageFromApi({ prompt_tokens: 3, completion_tokens: 1, prompt_tokens_details: null }), { inputTokens: 3, cachedInputTokens: 0, outputTokens: 1 });
  assert.deepEqual(usageFromApi({ prompt_tokens: 3, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 99 } })!.cachedInputTokens, 3, 'cached never exceeds input');
  for (const garbage of [null, undefined, 'x', 42, [], {}, { prompt_tokens: 5 }, { prompt_tokens: -1, completion_tokens: 2 }, { prompt_tokens: '5', completion_tokens: 2 }, { prompt_tokens: NaN, completion_tokens: 1 }]) {
    assert.equal(usageFromApi(garbage), undefined, JSON.stringify(garbage));
  }
});

test('usage counts hidden reasoning that a provider leaves out of completion_tokens: the total and the reasoning details win when larger', () => {
  // A Gemini-compatible answer: 60 reasoning tokens only in the total and the details.
  assert.equal(usageFromApi({ prompt_tokens: 21, completion_tokens: 0, total_tokens: 81, completion_tokens_details: { reasoning_tokens: 60 } })!.outputTokens, 60);
  assert.equal(usageFromApi({ prompt_tokens: 21, completion_tokens: 5, total_tokens: 126 })!.outputTokens, 105, 'total minus prompt');
  assert.equal(usageFromApi({ prompt_tokens: 21, completion_tokens: 5, completion_tokens_details: { reasoning_tokens: 70 } })!.outputTokens, 70, 'reasoning alone');
  assert.equal(usageFromApi({ input_tokens: 9, output_tokens: 2, total_tokens: 40 })!.outputTokens, 31, 'Responses: total minus input');
  assert.equal(usageFromApi({ input_tokens: 9, output_tokens: 2, output_tokens_details: { reasoning_tokens: 50 } })!.outputTokens, 50, 'Responses: reasoning details');
  assert.equal(usageFromApi({ prompt_tokens: 21, completion_tokens: 80, total_tokens: 90, completion_tokens_details: { reasoning_tokens: 60 } })!.outputTokens, 80, 'a smaller total or reasoning count never lowers the output');
  assert.equal(usageFromApi({ prompt_tokens: 21, completion_tokens: 8, total_tokens: 'x', completion_tokens_details: { reasoning_tokens: -3 } })!.outputTokens, 8, 'unusable extras are ignored');
});

test('the SSE tap finds the usage chunk however the bytes are split', () => {
  const usageEvent = 'data: {"choices":[],"usage":{"prompt_tokens":21,"completion_tokens":8,"prompt_tokens_details":{"cached_tokens":4}},"note":"é漢"}\r\n\r\n';
  const stream = Buffer.from(`data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n${usageEvent}data: [DONE]\n\n`);
  for (const size of [1, 2, 7, stream.length]) {
    const tap = new SseUsageTap();
    for (let i = 0; i < stream.length; i += size) tap.push(stream.subarray(i, i + size));
    assert.deepEqual(tap.usage, { inputTokens: 21, cachedInputTokens: 4, outputTokens: 8 }, `chunks of ${size} bytes`);
  }
  const responses = new SseUsageTap();
  responses.push(Buffer.from('event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":6}}}\n\n'));
  assert.deepEqual(responses.usage, { inputTokens: 5, cachedInputTokens: 0, outputTokens: 6 });
  const none = new SseUsageTap();
  none.push(Buffer.from('data: {"usage": {"broken"\n\ndata: [DONE]\n\n'));
  assert.equal(none.usage, undefined);
});

test('only a usage at the end of the answer is final: an early or running count is not', () => {
  const event = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
  const delta = (content: string) => event({ choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  const finish = event({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  const usage = (prompt: number, completion: number, choices: unknown[] = []) => event({ choices, usage: { prompt_tokens: prompt, completion_tokens: completion } });
  const tapOf = (...events: string[]) => {
    const tap = new SseUsageTap();
    for (const e of events) tap.push(Buffer.from(e));
    return tap;
  };

  const promptOnly = tapOf(usage(300_000, 0), delta('a'), delta('b'));
  assert.deepEqual(promptOnly.usage, { inputTokens: 300_000, cachedInputTokens: 0, outputTokens: 0 });
  assert.equal(promptOnly.finalUsage, undefined, 'a prompt-only count before the answer');
  assert.equal(tapOf(delta('a'), usage(10, 1, [{ index: 0, delta: { content: 'b' }, finish_reason: null }]), delta('c')).finalUsage, undefined, 'a running count');
  assert.equal(tapOf(delta('a'), finish, usage(10, 3), delta('more')).finalUsage, undefined, 'more answer after the usage');
  assert.deepEqual(tapOf(usage(10, 0), delta('a'), finish, usage(10, 3)).finalUsage, { inputTokens: 10, cachedInputTokens: 0, outputTokens: 3 }, 'the count after the finish');
  const withFinish = usage(10, 4, [{ index: 0, delta: {}, finish_reason: 'length' }]);
  assert.deepEqual(tapOf(delta('a'), withFinish).finalUsage, { inputTokens: 10, cachedInputTokens: 0, outputTokens: 4 }, 'a count on the finishing chunk');
});

test('an empty finish_reason is no end, and more answer after an end makes a later running count non-final', () => {
  const event = (obj: unknown) => Buffer.from(`data: ${JSON.stringify(obj)}\n\n`);
  const running = (content: string, completion: number, finish: string | null) =>
    event({ choices: [{ index: 0, delta: { content }, finish_reason: finish }], usage: { prompt_tokens: 10, completion_tokens: completion } });
  const empty = new SseUsageTap();
  empty.push(running('a', 1, ''));
  empty.push(running('b', 2, ''));
  assert.equal(empty.finalUsage, undefined, 'finish_reason "" on every chunk, cut after the second');

  const reopened = new SseUsageTap();
  reopened.push(running('a', 1, 'stop'));
  assert.deepEqual(reopened.finalUsage, { inputTokens: 10, cachedInputTokens: 0, outputTokens: 1 });
  reopened.push(running('b', 2, null));
  reopened.push(event({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 3 } }));
  assert.equal(reopened.finalUsage, undefined, 'content after the finish: the next count is a running one again');

  const framed = new SseUsageTap();
  framed.push(Buffer.from(`data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],\rdata: "usage":{"prompt_tokens":4,"completion_tokens":5}}\r\r`));
  assert.deepEqual(framed.finalUsage, { inputTokens: 4, cachedInputTokens: 0, outputTokens: 5 }, 'read with the same framing as the scrubber');
});

/** Scripted chat-completions answers shared by the agent tests (no test in this file). */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageFunctionToolCall,
} from 'openai/resources/chat/completions';
import type { ChatClient } from '../../container/agent/agent-loop.js';

export function toolCall(id: string, name: string, args: string): ChatCompletionMessageFunctionToolCall {
  return { id, type: 'function', function: { name, arguments: args } };
}

export function completion(content: string | null, toolCalls: ChatCompletionMessageFunctionToolCall[] = []): ChatCompletion {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: 1_772_000_000,
    model: 'fake-model',
    choices: [
      {
        index: 0,
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
        logprobs: null,
        message: { role: 'assistant', content, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

/** A completion as a provider streams it: the text in pieces of 5 characters, the tool calls whole, usage last. */
export async function* chunksOf(done: ChatCompletion): AsyncGenerator<ChatCompletionChunk> {
  const base = { id: done.id, object: 'chat.completion.chunk' as const, created: done.created, model: done.model };
  const message = done.choices[0]!.message;
  for (const piece of (message.content ?? '').match(/.{1,5}/gs) ?? []) {
    yield { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] };
  }
  const calls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
  if (calls.length > 0) {
    yield { ...base, choices: [{ index: 0, delta: { tool_calls: calls.map((c, index) => ({ index, id: c.id, type: 'function' as const, function: c.function })) }, finish_reason: null }] };
  }
  yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: done.choices[0]!.finish_reason }] };
  if (done.usage) yield { ...base, choices: [], usage: done.usage };
}

/** The body of an event-stream answer carrying `done` (what a streaming provider sends over HTTP). */
export async function sseBodyOf(done: ChatCompletion): Promise<string> {
  let body = '';
  for await (const chunk of chunksOf(done)) body += `data: ${JSON.stringify(chunk)}\n\n`;
  return `${body}data: [DONE]\n\n`;
}

/** A ChatClient that answers from a script (the last answer repeats), streamed, and records every request. */
export class ScriptedClient implements ChatClient {
  readonly requests: ChatCompletionCreateParamsStreaming[] = [];
  readonly chat = {
    completions: {
      create: async (body: ChatCompletionCreateParamsStreaming): Promise<AsyncIterable<ChatCompletionChunk>> => {
        this.requests.push(structuredClone(body));
        const next = this.script[Math.min(this.requests.length - 1, this.script.length - 1)];
        if (next === undefined) throw new Error('empty script');
        if (next instanceof Error) throw next;
        return chunksOf(next);
      },
    },
  };

  constructor(private readonly script: Array<ChatCompletion | Error>) {}
}

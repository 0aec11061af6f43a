/** Scripted chat-completions answers shared by the agent tests (no test in this file). */
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
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

/** A ChatClient that answers from a script (the last answer repeats) and records every request. */
export class ScriptedClient implements ChatClient {
  readonly requests: ChatCompletionCreateParamsNonStreaming[] = [];
  readonly chat = {
    completions: {
      create: async (body: ChatCompletionCreateParamsNonStreaming): Promise<ChatCompletion> => {
        this.requests.push(structuredClone(body));
        const next = this.script[Math.min(this.requests.length - 1, this.script.length - 1)];
        if (next === undefined) throw new Error('empty script');
        if (next instanceof Error) throw next;
        return next;
      },
    },
  };

  constructor(private readonly script: Array<ChatCompletion | Error>) {}
}

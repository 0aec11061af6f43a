import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import { readStreamedStep } from './stream-step.js';
import { CONCURRENT_TOOL_NAMES } from './team-tool-contract.js';
import type { ToolSet } from './tools.js';

/** The one method of the openai client the loop needs (streamed answers); tests pass a scripted object. */
export interface ChatClient {
  chat: { completions: { create(body: ChatCompletionCreateParamsStreaming): PromiseLike<AsyncIterable<ChatCompletionChunk>> } };
}

/** What the loop reports while it works, for the chat to show the answer being written. */
export interface LoopListener {
  /** More text of the current model call (the answer, unless tool calls follow). */
  onText?(text: string): void;
  /** The current model call asked for tools: the text it streamed is not the answer. */
  onDiscard?(): void;
  /** The proxy switched to another model mid-answer. */
  onRestart?(reason: string): void;
  onToolCall?(name: string, argumentsJson: string, step: number): void;
}

export interface AgentLoopInput {
  client: ChatClient;
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: ToolSet;
  maxSteps: number;
  listener?: LoopListener;
}

export interface AgentLoopOutput {
  reply: string;
  /** Model calls made. */
  steps: number;
  stepLimitHit: boolean;
}

export function stepLimitMessage(maxSteps: number): string {
  return (
    `I stopped because I reached my step limit (${maxSteps} model calls) before I could finish. ` +
    'Ask me to continue, or split the task into smaller parts.'
  );
}

async function runToolCall(call: ChatCompletionMessageToolCall, tools: ToolSet): Promise<string> {
  if (call.type !== 'function') return `Error: tool call type "${call.type}" is not supported; use the function tools.`;
  return tools.call(call.function.name, call.function.arguments);
}

/** Model call -> tool calls -> model call ... until an answer without tool calls, or maxSteps calls. */
export async function runAgentLoop(input: AgentLoopInput): Promise<AgentLoopOutput> {
  const { client, model, tools } = input;
  const listener = input.listener ?? {};
  const maxSteps = Math.max(1, Math.floor(input.maxSteps));
  const messages = [...input.messages];
  const definitions = tools.definitions();

  for (let step = 1; step <= maxSteps; step++) {
    const stream = await client.chat.completions.create({
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      ...(definitions.length > 0 ? { tools: definitions } : {}),
    });
    const answer = await readStreamedStep(stream, {
      onText: (text) => listener.onText?.(text),
      onRestart: (reason) => listener.onRestart?.(reason),
    });

    if (answer.toolCalls.length === 0) {
      return { reply: answer.content || answer.refusal, steps: step, stepLimitHit: false };
    }

    if (answer.content !== '') listener.onDiscard?.();
    messages.push({ role: 'assistant', content: answer.content || null, tool_calls: answer.toolCalls });
    // Fan-out tools (spawn_helper) of one step start together; the results still go back in the order of the calls.
    const started = answer.toolCalls.map((call) => (CONCURRENT_TOOL_NAMES.includes(call.function.name) ? runToolCall(call, tools) : undefined));
    for (const [i, call] of answer.toolCalls.entries()) {
      listener.onToolCall?.(call.function.name, call.function.arguments, step);
      messages.push({ role: 'tool', tool_call_id: call.id, content: await (started[i] ?? runToolCall(call, tools)) });
    }
  }
  return { reply: stepLimitMessage(maxSteps), steps: maxSteps, stepLimitHit: true };
}

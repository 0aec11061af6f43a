import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { ToolSet } from './tools.js';

/** The one method of the openai client the loop needs; tests pass a scripted object. */
export interface ChatClient {
  chat: { completions: { create(body: ChatCompletionCreateParamsNonStreaming): PromiseLike<ChatCompletion> } };
}

export interface AgentLoopInput {
  client: ChatClient;
  model: string;
  messages: ChatCompletionMessageParam[];
  tools: ToolSet;
  maxSteps: number;
  onToolCall?: (name: string, step: number) => void;
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
  const maxSteps = Math.max(1, Math.floor(input.maxSteps));
  const messages = [...input.messages];
  const definitions = tools.definitions();

  for (let step = 1; step <= maxSteps; step++) {
    const completion = await client.chat.completions.create({
      model,
      messages,
      ...(definitions.length > 0 ? { tools: definitions } : {}),
    });
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('the model returned no choices');

    const toolCalls = message.tool_calls ?? [];
    if (toolCalls.length === 0) {
      return { reply: message.content ?? message.refusal ?? '', steps: step, stepLimitHit: false };
    }

    messages.push({ role: 'assistant', content: message.content, tool_calls: toolCalls });
    for (const call of toolCalls) {
      input.onToolCall?.(call.type === 'function' ? call.function.name : call.type, step);
      messages.push({ role: 'tool', tool_call_id: call.id, content: await runToolCall(call, tools) });
    }
  }
  return { reply: stepLimitMessage(maxSteps), steps: maxSteps, stepLimitHit: true };
}

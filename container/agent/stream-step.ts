import type { ChatCompletionChunk, ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions';
import { STREAM_RESTART_FIELD } from './protocol.js';

/** One model call's answer, joined from its stream. */
export interface StreamedStep {
  content: string;
  refusal: string;
  toolCalls: ChatCompletionMessageFunctionToolCall[];
}

export interface StepListener {
  onText(text: string): void;
  /** The proxy switched to another model mid-answer: everything joined so far was dropped. */
  onRestart(reason: string): void;
}

function restartReason(chunk: ChatCompletionChunk): string | undefined {
  const value = (chunk as unknown as Record<string, unknown>)[STREAM_RESTART_FIELD];
  if (value === undefined) return undefined;
  return typeof value === 'string' && value !== '' ? value : 'the model failed mid-answer';
}

/** Joins a streamed chat completion (first choice), passing each piece of text on as it arrives. */
export async function readStreamedStep(stream: AsyncIterable<ChatCompletionChunk>, listener: StepListener): Promise<StreamedStep> {
  let content = '';
  let refusal = '';
  let calls = new Map<number, ChatCompletionMessageFunctionToolCall>();
  for await (const chunk of stream) {
    const restart = restartReason(chunk);
    if (restart !== undefined) {
      content = '';
      refusal = '';
      calls = new Map();
      listener.onRestart(restart);
      continue;
    }
    const delta = chunk.choices?.find((c) => (c.index ?? 0) === 0)?.delta;
    if (!delta) continue;
    if (typeof delta.content === 'string' && delta.content !== '') {
      content += delta.content;
      listener.onText(delta.content);
    }
    if (typeof delta.refusal === 'string') refusal += delta.refusal;
    for (const piece of delta.tool_calls ?? []) {
      const call = calls.get(piece.index) ?? { id: '', type: 'function' as const, function: { name: '', arguments: '' } };
      if (piece.id) call.id = piece.id;
      if (piece.function?.name) call.function.name += piece.function.name;
      if (piece.function?.arguments) call.function.arguments += piece.function.arguments;
      calls.set(piece.index, call);
    }
  }
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return { content, refusal, toolCalls };
}

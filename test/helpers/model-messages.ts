import type { RecordedRequest, ToolCallSpec } from '../fakes/fake-model.js';

/** One chat message as the agent sent it to the model. */
export interface SentChatMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
}

export function chatMessagesOf(request: RecordedRequest): SentChatMessage[] {
  return request.body.messages as SentChatMessage[];
}

/** The system prompt the agent built for this request. */
export function systemPromptOf(request: RecordedRequest): string {
  return chatMessagesOf(request).find((m) => m.role === 'system')?.content ?? '';
}

/** The tool results in a request, in the order the tools were called. */
export function toolResultsOf(request: RecordedRequest): string[] {
  return chatMessagesOf(request)
    .filter((m) => m.role === 'tool')
    .map((m) => m.content ?? '');
}

/** The last user message in a request. */
export function lastUserMessageOf(request: RecordedRequest): string {
  return chatMessagesOf(request).filter((m) => m.role === 'user').at(-1)?.content ?? '';
}

/** A scripted tool call with its arguments written as JSON. */
export function toolCall(name: string, args: Record<string, unknown>): ToolCallSpec {
  return { name, arguments: JSON.stringify(args) };
}

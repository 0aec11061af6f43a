import type { SendMessageRequest, ToolResponse } from './protocol.js';
import { defineTool, stringArg, ToolError, type Tool } from './tools.js';

export type SendMessage = (request: SendMessageRequest) => Promise<ToolResponse>;

/** send_message is performed by the host, which re-checks that it goes to this turn's own chat. */
export function sendMessageTool(turnId: string, send: SendMessage): Tool {
  return defineTool(
    'send_message',
    'Send a message to the chat right away, before your final answer (e.g. a progress note during a long task). ' +
      'Your final answer is sent anyway; do not repeat it here.',
    {
      type: 'object',
      properties: { text: { type: 'string', description: 'The message text' } },
      required: ['text'],
      additionalProperties: false,
    },
    async (args) => {
      const text = stringArg(args, 'text');
      if (text.trim() === '') throw new ToolError('text is empty');
      const response = await send({ turnId, text });
      return JSON.stringify(response);
    },
  );
}

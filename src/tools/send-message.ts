import type { ToolResponse } from '../../container/agent/protocol.js';
import type { HostTool } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';

/**
 * The longest text one send_message may carry. The outbox splits long text into several posts,
 * so without this cap one call could become a hundred posts and the per-turn message limit
 * would count only one of them.
 */
export const MAX_SEND_MESSAGE_CHARS = 4_000;

/** Delivers a message to the chat of the group's running turn (never another chat). */
export type SendToTurnChat = (group: string, turnId: string, text: string) => ToolResponse | Promise<ToolResponse>;

export function sendMessageTool(send: SendToTurnChat): HostTool {
  return {
    name: 'send_message',
    async perform({ group, turnId, args }) {
      const text = args.text;
      if (typeof text !== 'string' || text.trim() === '') throw new ToolRefusal('text must be a non-empty string', 'invalid');
      if (text.length > MAX_SEND_MESSAGE_CHARS) {
        throw new ToolRefusal(
          `the message has ${text.length} characters, more than the ${MAX_SEND_MESSAGE_CHARS} one send_message may carry; shorten it, or split it over a few messages`,
          'invalid',
          { chars: text.length },
        );
      }
      const sent = await send(group.name, turnId, text);
      if (!sent.ok) throw new ToolRefusal(sent.error ?? 'the message was not sent', 'refused');
      return { result: { ok: true }, audit: { chars: text.length } };
    },
  };
}

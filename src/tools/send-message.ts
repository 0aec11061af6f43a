import type { ToolResponse } from '../../container/agent/protocol.js';
import type { HostTool } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';

/** Delivers a message to the chat of the group's running turn (never another chat). */
export type SendToTurnChat = (group: string, turnId: string, text: string) => ToolResponse | Promise<ToolResponse>;

export function sendMessageTool(send: SendToTurnChat): HostTool {
  return {
    name: 'send_message',
    async perform({ group, turnId, args }) {
      const text = args.text;
      if (typeof text !== 'string' || text.trim() === '') throw new ToolRefusal('text must be a non-empty string', 'invalid');
      const sent = await send(group.name, turnId, text);
      if (!sent.ok) throw new ToolRefusal(sent.error ?? 'the message was not sent', 'refused');
      return { result: { ok: true }, audit: { chars: text.length } };
    },
  };
}

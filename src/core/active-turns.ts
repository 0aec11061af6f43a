import { TurnRegistry } from './turn-registry.js';
import type { ChatRef } from '../../channels/chat-ref.js';

export interface ActiveTurn extends ChatRef {
  group: string;
  /** The thread or topic the conversation is in: every message of the turn goes there. */
  threadId?: string;
  /** Platform id of the message the turn answers. */
  replyTo: string;
  /** Messages the agent has sent with send_message during this turn. */
  sent: number;
}

/** The turns running now, by turn id: the one place that knows which chat a turn answers. */
export class ActiveTurns extends TurnRegistry<ActiveTurn> {
  /** The chat (and thread) the group is answering right now, if a turn runs. */
  currentChat(group: string): (ChatRef & { threadId?: string }) | undefined {
    // A turn working for another agent (channel '') has no chat.
    for (const turn of this.turns.values()) if (turn.group === group && turn.channel) return { channel: turn.channel, chatId: turn.chatId, threadId: turn.threadId };
    return undefined;
  }
}

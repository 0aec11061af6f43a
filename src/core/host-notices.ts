import { randomUUID } from 'node:crypto';
import { parseChatRef, type ChatRef } from '../../channels/chat-ref.js';
import type { Config } from '../config/load.js';
import type { ActiveTurns } from './active-turns.js';
import type { Outbox } from './outbox.js';

export interface HostNoticeDeps {
  config: () => Config;
  turns: ActiveTurns;
  outbox: Outbox;
}

/** Messages from the host itself (budget notices, task failures) to a group's chat, through the outbox. */
export class HostNotices {
  constructor(private readonly deps: HostNoticeDeps) {}

  /** To the chat the group is answering now, or else its first chat; a worker without chats hears nothing. */
  tell(group: string, text: string): void {
    const target = this.deps.turns.currentChat(group) ?? firstChat(this.deps.config(), group);
    if (target) this.tellChat(group, target, text);
  }

  tellChat(group: string, chat: ChatRef & { threadId?: string }, text: string): void {
    this.deps.outbox.add({ group, channel: chat.channel, chatId: chat.chatId, threadId: chat.threadId, text, dedupeKey: `host:${group}:${randomUUID()}` });
    void this.deps.outbox.flushChat(chat.channel, chat.chatId);
  }
}

function firstChat(config: Config, group: string): ChatRef | undefined {
  const ref = config.groups.get(group)?.chats[0];
  return ref ? parseChatRef(ref) : undefined;
}

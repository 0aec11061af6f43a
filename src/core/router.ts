import type { InboundMessage, InboundOutcome, InboundReceipt, InboundStatus } from '../../channels/channel.js';
import type { Config } from '../config/load.js';
import { groupForChat } from '../config/load.js';
import type { Logger } from '../logger.js';
import { parseCommand, type Commands } from './commands.js';
import type { GroupQueue } from './group-queue.js';
import type { MessageStore } from './message-store.js';
import type { Outbox } from './outbox.js';
import { truncationNotice } from './replies.js';
import type { SettleWaiters } from './settle-waiters.js';
import { isTriggered } from './trigger.js';

export interface RouterDeps {
  config: () => Config;
  store: MessageStore;
  outbox: Outbox;
  queue: GroupQueue;
  commands: Commands;
  waiters: SettleWaiters;
  log: Logger;
}

const NOTHING = Promise.resolve<InboundOutcome>('none');

/** Every inbound message passes here: stored first, then dropped, answered by the host, or queued. */
export class Router {
  constructor(private readonly deps: RouterDeps) {}

  readonly handle = async (raw: InboundMessage): Promise<InboundReceipt> => {
    const { store, log } = this.deps;
    if (raw.fromBot) return { status: 'ignored', settled: NOTHING };
    const cfg = this.deps.config();
    const msg = this.limitLength(raw, cfg.enclave.maxMessageChars);
    const group = groupForChat(cfg, msg.channel, msg.chatId);
    const command = group ? parseCommand(msg.text) : undefined;
    const status: InboundStatus = !group
      ? 'unregistered'
      : command
        ? 'command'
        : msg.text.trim() === '' || !isTriggered(msg, group)
          ? 'ignored'
          : 'queued';

    const id = store.insert(msg, group?.name, status);
    if (id === undefined) return { status: 'duplicate', settled: NOTHING };

    if (!group) {
      log.info({ channel: msg.channel, chat: msg.chatId }, 'message from an unregistered chat dropped');
      return { status, settled: NOTHING };
    }
    if (command) {
      const reply = this.deps.commands.run(command, group);
      this.deps.outbox.add({ group: group.name, channel: msg.channel, chatId: msg.chatId, text: reply, replyTo: msg.platformId, dedupeKey: `cmd:${id}` });
      return { status, settled: this.deps.outbox.flush().then(() => 'answered' as const) };
    }
    if (status === 'ignored') return { status, settled: NOTHING };
    const settled = this.deps.waiters.wait(id);
    this.deps.queue.enqueue(group.name);
    return { status, settled };
  };

  private limitLength(msg: InboundMessage, max: number): InboundMessage {
    if (msg.text.length <= max) return msg;
    this.deps.log.warn({ channel: msg.channel, chat: msg.chatId, length: msg.text.length }, 'oversized message truncated');
    return { ...msg, text: msg.text.slice(0, max) + truncationNotice(msg.text.length, max) };
  }
}

import type { Channel, InboundHandler, InboundReceipt } from '../../channels/channel.js';
import { formatChatRef, parseChatRef, type ChatRef } from '../../channels/chat-ref.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { DISK_FULL_REFUSAL, type StorageHealth } from '../db/storage-health.js';
import type { Logger } from '../logger.js';

export interface StorageGateDeps {
  health: Pick<StorageHealth, 'full' | 'report' | 'recheck'>;
  channels: ReadonlyMap<string, Channel>;
  clock: Clock;
  log: Logger;
}

/** One refusal per chat per this long, so a busy chat is not flooded while the disk stays full. */
const REFUSAL_EVERY_MS = 60_000;

/**
 * In front of the router: while the disk is full every message is refused with a sentence, sent
 * straight to the chat (the outbox cannot store it); a message whose own writes meet the full disk
 * is refused the same way instead of failing unseen.
 */
export function storageGate(handle: InboundHandler, deps: StorageGateDeps): InboundHandler {
  const lastRefusal = new Map<string, number>();
  const refuse = (chat: ChatRef): InboundReceipt => {
    const key = formatChatRef(chat);
    const now = deps.clock();
    if (now - (lastRefusal.get(key) ?? -Infinity) < REFUSAL_EVERY_MS) return { status: 'refused', settled: Promise.resolve('none') };
    lastRefusal.set(key, now);
    const channel = deps.channels.get(chat.channel);
    const sent = channel ? channel.send({ chatId: chat.chatId, text: DISK_FULL_REFUSAL }) : Promise.resolve();
    return {
      status: 'refused',
      settled: sent.then(
        () => 'answered' as const,
        () => 'failed' as const,
      ),
    };
  };
  return async (msg) => {
    if (msg.fromBot) return { status: 'ignored', settled: Promise.resolve('none') };
    // A message is also a moment to look again: space freed a second ago counts at once.
    if (deps.health.full && !deps.health.recheck()) return refuse(msg);
    try {
      return await handle(msg);
    } catch (err) {
      if (!deps.health.report(err, 'inbound message')) throw err;
      return refuse(msg);
    }
  };
}

/** The owner's chats: each owner's direct chat (owners in enclave.yaml) and every local chat (the local user owns the host). */
export function ownerChats(config: Config): ChatRef[] {
  const refs = [...config.enclave.owners, ...[...config.groups.values()].flatMap((g) => g.chats.filter((c) => c.startsWith('local:')))];
  const unique = new Map<string, ChatRef>();
  for (const text of refs) {
    const ref = parseChatRef(text);
    if (ref) unique.set(formatChatRef(ref), ref);
  }
  return [...unique.values()];
}

/** Sends a host notice to the owner directly, without the outbox (used when the disk is full). */
export function tellOwnerDirectly(config: Config, channels: ReadonlyMap<string, Channel>, log: Logger, text: string): void {
  for (const chat of ownerChats(config)) {
    const channel = channels.get(chat.channel);
    if (!channel) continue;
    void channel.send({ chatId: chat.chatId, text }).catch((err: Error) => log.warn({ chat: formatChatRef(chat), err: err.message }, 'could not tell the owner'));
  }
}

import type { InboundMessage, InboundOutcome, InboundReceipt, InboundStatus } from '../../channels/channel.js';
import { decideAccess, type AccessDecision } from '../access/access-policy.js';
import { identityOf, isOwner } from '../access/identity.js';
import type { PairingStore } from '../access/pairing-store.js';
import type { RefusalNotices } from '../access/refusal-notices.js';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { groupForChat } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { Commands } from './commands/commands.js';
import { parseCommand, type ParsedCommand } from './commands/parse.js';
import type { GroupQueue } from './group-queue.js';
import type { MessageStore } from './message-store.js';
import type { Outbox } from './outbox.js';
import { messageCutReply, truncationNotice } from './replies.js';
import type { SeenChats } from './seen-chats.js';
import type { SettleWaiters } from './settle-waiters.js';
import { isTriggered } from './trigger.js';

export interface RouterDeps {
  config: () => Config;
  store: MessageStore;
  outbox: Outbox;
  queue: GroupQueue;
  commands: Commands;
  waiters: SettleWaiters;
  pairings: PairingStore;
  notices: RefusalNotices;
  seenChats: SeenChats;
  audit: AuditSink;
  log: Logger;
}

const NOTHING = Promise.resolve<InboundOutcome>('none');
/** Outbox rows for chats that belong to no group (refusals, /register answers). */
const NO_GROUP = '-';
const OWNER_REGISTER_HINT = 'This chat is not registered yet. Send /register <name> here to give it its own agent and memory.';

/**
 * Every inbound message passes here: stored first, then refused (and audited), answered by the
 * host as a command, or queued for its group's agent.
 */
export class Router {
  constructor(private readonly deps: RouterDeps) {}

  readonly handle = async (raw: InboundMessage): Promise<InboundReceipt> => {
    if (raw.fromBot) return { status: 'ignored', settled: NOTHING };
    const cfg = this.deps.config();
    const msg = this.limitLength(raw, cfg.enclave.maxMessageChars);
    this.deps.seenChats.record(msg);
    const group = groupForChat(cfg, msg.channel, msg.chatId);
    const parsed = parseCommand(msg.text);
    const { commands } = this.deps;
    // In group chats another bot's command is plain text: only ours, or one addressed to us, counts.
    const command = parsed && (msg.isDirect || msg.mentionsBot || msg.replyToBot || commands.knows(parsed.name)) ? parsed : undefined;
    const access = decideAccess(cfg, msg, group, this.deps.pairings);
    const owner = access.allow ? access.owner : isOwner(cfg, msg);

    // Outside registered chats the owner may use the commands that need no group (/register, /approve,
    // /whoami, /help); anyone else reaches only the owner-only ones, to be refused and audited there.
    const commandOutsideGroup = command !== undefined && !group && commands.worksWithoutGroup(command.name) && (owner || commands.isOwnerOnly(command));
    const admitted = access.allow && (group !== undefined || commandOutsideGroup);
    if (!admitted && !(commandOutsideGroup && !access.allow && access.reason === 'unregistered_chat')) {
      return this.refuse(msg, group, access);
    }
    if (command) return this.command(msg, group, command, owner);

    // Media follow the text's rules: a photo or voice note is fetched (and paid for) only when its
    // message would be answered; nothing is downloaded here, the turn does it.
    const hasContent = msg.text.trim() !== '' || (msg.attachments?.length ?? 0) > 0;
    const status: InboundStatus = !hasContent || !isTriggered(msg, group!) ? 'ignored' : 'queued';
    const id = this.deps.store.insert(msg, group!.name, status);
    if (id === undefined) return { status: 'duplicate', settled: NOTHING };
    if (status === 'ignored') return { status, settled: NOTHING };
    const settled = this.deps.waiters.wait(id);
    // Told before the answer, so the sender knows the answer is about the part that was kept.
    if (msg.text !== raw.text) this.tellCut(msg, group!, raw.text.length, cfg.enclave.maxMessageChars, id);
    this.deps.queue.enqueue(group!.name);
    return { status, settled };
  };

  private async command(msg: InboundMessage, group: GroupConfig | undefined, command: ParsedCommand, owner: boolean): Promise<InboundReceipt> {
    const id = this.deps.store.insert(msg, group?.name, 'command');
    if (id === undefined) return { status: 'duplicate', settled: NOTHING };
    const reply = await this.deps.commands.run(command, { msg, group, owner, identity: identityOf(msg) });
    if (!reply) return { status: 'command', settled: NOTHING };
    return { status: 'command', settled: this.reply(msg, group, reply, `cmd:${id}`).then(() => 'answered' as const) };
  }

  private refuse(msg: InboundMessage, group: GroupConfig | undefined, access: AccessDecision): InboundReceipt {
    const reason = access.allow ? 'unregistered_chat' : access.reason;
    const status: InboundStatus = reason === 'unregistered_chat' ? 'unregistered' : 'refused';
    const id = this.deps.store.insert(msg, group?.name, status);
    if (id === undefined) return { status: 'duplicate', settled: NOTHING };
    const identity = identityOf(msg);
    this.deps.audit.append({ kind: 'denial', group: group?.name, actor: identity, detail: { reason, chat: `${msg.channel}:${msg.chatId}` } });
    this.deps.log.info({ channel: msg.channel, chat: msg.chatId, reason }, 'message refused');
    const addressed = msg.isDirect || msg.mentionsBot || msg.replyToBot;
    const reply = access.allow ? (addressed ? OWNER_REGISTER_HINT : undefined) : access.reply;
    // take() runs even for a message that is always sent (a new pairing code), so the hour starts there.
    const due = reply !== undefined && (this.deps.notices.take(`refusal:${identity}:${msg.chatId}`) || (!access.allow && access.always === true));
    if (!reply || !due) {
      return { status, settled: NOTHING };
    }
    return { status, settled: this.reply(msg, group, reply, `refusal:${id}`).then(() => 'answered' as const) };
  }

  private async reply(msg: InboundMessage, group: GroupConfig | undefined, text: string, dedupeKey: string): Promise<void> {
    this.deps.outbox.add({ group: group?.name ?? NO_GROUP, channel: msg.channel, chatId: msg.chatId, text, replyTo: msg.platformId, dedupeKey });
    await this.deps.outbox.flushChat(msg.channel, msg.chatId);
  }

  private tellCut(msg: InboundMessage, group: GroupConfig, original: number, kept: number, id: number): void {
    this.deps.outbox.add({ group: group.name, channel: msg.channel, chatId: msg.chatId, threadId: msg.threadId, text: messageCutReply(original, kept), replyTo: msg.platformId, dedupeKey: `cut:${id}` });
    void this.deps.outbox.flushChat(msg.channel, msg.chatId).catch((err: unknown) => this.deps.log.warn({ channel: msg.channel, err: String(err) }, 'could not send the message-cut notice yet; the outbox retries'));
  }

  private limitLength(msg: InboundMessage, max: number): InboundMessage {
    if (msg.text.length <= max) return msg;
    this.deps.log.warn({ channel: msg.channel, chat: msg.chatId, length: msg.text.length }, 'oversized message truncated');
    return { ...msg, text: msg.text.slice(0, max) + truncationNotice(msg.text.length, max) };
  }
}

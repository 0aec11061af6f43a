import type { ChatInputCommandInteraction } from 'discord.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { InboundOutcome, InboundStatus } from '../channel.js';
import { isDeadInteraction } from './outbound.js';
import { formatChatRef } from '../chat-ref.js';
import { CHANNEL_NAME } from './inbound.js';

/** Discord takes edits and follow-ups for 15 minutes; stop a little early so a late edit is not lost. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

interface Pending {
  interaction: ChatInputCommandInteraction;
  /** The "thinking..." reply was replaced; further chunks are follow-ups. */
  edited: boolean;
}

/**
 * Slash commands are acknowledged at once with a deferred reply ("Bot is thinking..."); the
 * host's answer later replaces it, and further chunks follow up on it.
 */
export class DeferredReplies {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly now: Clock = systemClock) {}

  /** Throws when Discord refused the acknowledgement (then answers go to the channel). */
  async defer(interaction: ChatInputCommandInteraction): Promise<void> {
    this.prune();
    await interaction.deferReply();
    this.pending.set(interaction.id, { interaction, edited: false });
  }

  /** Sends one chunk through the interaction, once; false when none is live for this id (send it to the channel). */
  async deliver(interactionId: string, text: string): Promise<boolean> {
    const pending = this.live(interactionId);
    if (!pending) return false;
    const options = { content: text, allowedMentions: { parse: [] } };
    try {
      if (pending.edited) await pending.interaction.followUp(options);
      else await pending.interaction.editReply(options);
    } catch (err) {
      if (!isDeadInteraction(err)) throw err;
      this.pending.delete(interactionId);
      return false;
    }
    pending.edited = true;
    return true;
  }

  /**
   * The host is done with the command and nothing was delivered through its interaction (no
   * answer, or the answer went to a later message of the same turn): replace the spinner with a
   * short note so it never spins on. Best effort.
   */
  async settle(interactionId: string, note: string): Promise<void> {
    const pending = this.live(interactionId);
    if (!pending || pending.edited) return;
    try {
      await pending.interaction.editReply({ content: note, allowedMentions: { parse: [] } });
      pending.edited = true;
    } catch {
      this.pending.delete(interactionId);
    }
  }

  /** An interaction this channel still answers through its deferred reply. */
  isPending(interactionId: string): boolean {
    return this.live(interactionId) !== undefined;
  }

  private live(interactionId: string): Pending | undefined {
    const pending = this.pending.get(interactionId);
    if (pending && this.now() - pending.interaction.createdTimestamp > TOKEN_LIFETIME_MS) {
      this.pending.delete(interactionId);
      return undefined;
    }
    return pending;
  }

  private prune(): void {
    for (const id of this.pending.keys()) this.live(id);
  }
}

/** What a slash command's spinner becomes when the host sent nothing back through it. */
export function closingNote(status: InboundStatus, outcome: InboundOutcome, chatId: string, assistantName: string): string {
  if (outcome === 'answered') return 'Answered below.';
  if (outcome === 'failed') return 'Sorry, that did not work. Please try again later.';
  if (status === 'unregistered') return `This chat is not set up for ${assistantName} (its id is ${formatChatRef({ channel: CHANNEL_NAME, chatId })}).`;
  if (status === 'refused') return 'That is not allowed here.';
  return 'Nothing to answer.';
}

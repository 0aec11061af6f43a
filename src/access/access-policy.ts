import type { InboundMessage } from '../../channels/channel.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { channelAccess } from './channel-access.js';
import { identityOf, isOwner } from './identity.js';
import type { PairingStore } from './pairing-store.js';

export type DenialReason = 'unregistered_chat' | 'dm_disabled' | 'not_allowlisted' | 'pairing_required' | 'pairing_full' | 'sender_not_allowed';

export type AccessDecision =
  | { allow: true; owner: boolean }
  | {
      allow: false;
      reason: DenialReason;
      /** What to tell the person, if anything; sent at most once an hour unless `always`. */
      reply?: string;
      always?: boolean;
    };

const addressed = (msg: InboundMessage) => msg.isDirect || msg.mentionsBot || msg.replyToBot;

/**
 * Who may reach an agent: owners everywhere; in DMs whoever the channel's DM policy admits; in
 * group chats only registered chats, and there only the group's allowed senders when it lists any.
 * Replies never say who the owner is.
 */
export function decideAccess(cfg: Config, msg: InboundMessage, group: GroupConfig | undefined, pairings: PairingStore): AccessDecision {
  if (isOwner(cfg, msg)) return { allow: true, owner: true };

  if (msg.isDirect) {
    const access = channelAccess(cfg, msg.channel);
    const listed = access.allowFrom.includes(msg.senderId) || pairings.isApproved(msg.channel, msg.senderId);
    if (access.dmPolicy === 'disabled') {
      return { allow: false, reason: 'dm_disabled', reply: 'This assistant does not take direct messages.' };
    }
    if (access.dmPolicy === 'allowlist' && !listed) {
      return { allow: false, reason: 'not_allowlisted', reply: 'Sorry, this assistant is private.' };
    }
    if (access.dmPolicy === 'pairing' && !listed) return pairingDecision(msg, pairings);
  }

  if (!group) {
    return {
      allow: false,
      reason: 'unregistered_chat',
      reply: addressed(msg) ? 'This chat is not set up for the assistant yet. Its owner can enable it with /register <name>.' : undefined,
    };
  }
  if (group.allowSenders.length > 0 && !group.allowSenders.includes(identityOf(msg))) {
    return { allow: false, reason: 'sender_not_allowed', reply: addressed(msg) ? 'Sorry, you are not on the list of people this assistant answers here.' : undefined };
  }
  return { allow: true, owner: false };
}

function pairingDecision(msg: InboundMessage, pairings: PairingStore): AccessDecision {
  const request = pairings.request(msg.channel, msg.senderId, msg.senderName);
  if (request.kind === 'too_many_pending') {
    return { allow: false, reason: 'pairing_full', reply: 'Too many people are waiting for approval right now. Please try again later.' };
  }
  const { code } = request.pairing;
  return {
    allow: false,
    reason: 'pairing_required',
    reply: `Hi! This assistant only talks to people its owner approved. Your pairing code is ${code} (valid for 1 hour). Ask the owner to approve it.`,
    always: request.kind === 'new',
  };
}

import type { InboundMessage } from '../../channels/channel.js';
import type { GroupConfig } from '../config/groups.js';

/** DMs always; in group chats, when the group requires it: trigger word, native mention or reply to the bot. */
export function isTriggered(msg: InboundMessage, group: GroupConfig): boolean {
  if (msg.isDirect || !group.requireTrigger) return true;
  if (msg.mentionsBot || msg.replyToBot) return true;
  return containsWord(msg.text, group.trigger);
}

function containsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_])${escaped}($|[^\\p{L}\\p{N}_])`, 'iu').test(text);
}

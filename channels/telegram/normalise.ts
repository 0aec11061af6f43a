import type { Message, MessageEntity } from 'grammy/types';
import type { InboundMessage } from '../channel.js';
import { telegramAttachments } from './media.js';

export interface BotIdentity {
  id: number;
  /** Without the leading @. */
  username: string;
}

interface Range {
  start: number;
  end: number;
}

/**
 * One Telegram message as the host sees it, or undefined when it is not for the host: no text,
 * caption or file, no sender, or a command addressed to another bot (`/status@otherbot`).
 * `/ask text` becomes `text` with mentionsBot; other commands pass on as `/name args`.
 */
export function normaliseMessage(message: Message, me: BotIdentity): InboundMessage | undefined {
  const attachments = telegramAttachments(message);
  // A photo or voice note without a caption is still a message, with empty text.
  const rawText = message.text ?? message.caption ?? (attachments.length > 0 ? '' : undefined);
  const from = message.from;
  if (rawText === undefined || !from) return undefined;
  const entities: MessageEntity[] = message.entities ?? message.caption_entities ?? [];

  const mentions: string[] = [];
  const own: Range[] = [];
  for (const e of entities) {
    const span = { start: e.offset, end: e.offset + e.length };
    if (e.type === 'mention') {
      const username = rawText.slice(span.start + 1, span.end);
      if (sameUsername(username, me.username)) {
        own.push(span);
        mentions.push(String(me.id));
      } else mentions.push(`@${username}`);
    } else if (e.type === 'text_mention') {
      if (e.user.id === me.id) own.push(span);
      mentions.push(String(e.user.id));
    }
  }

  let text = removeRanges(rawText, own);
  let mentionsBot = own.length > 0;
  const command = entities.find((e) => e.type === 'bot_command' && e.offset === 0);
  if (command) {
    const [name = '', target] = rawText.slice(1, command.length).split('@');
    if (target !== undefined && !sameUsername(target, me.username)) return undefined;
    const args = removeRanges(rawText, [{ start: 0, end: command.length }, ...own]);
    if (name.toLowerCase() === 'ask') {
      text = args;
      mentionsBot = true;
    } else {
      text = args ? `/${name} ${args}` : `/${name}`;
      mentionsBot ||= target !== undefined;
    }
  }

  const reply = realReply(message);
  const topic = forumTopic(message);
  return {
    channel: 'telegram',
    chatId: String(message.chat.id),
    platformId: String(message.message_id),
    senderId: String(from.id),
    senderName: [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || String(from.id),
    text,
    isDirect: message.chat.type === 'private',
    mentionsBot,
    replyToBot: reply?.from?.id === me.id,
    replyTo: reply ? String(reply.message_id) : undefined,
    mentions: [...new Set(mentions)],
    fromBot: from.is_bot,
    timestamp: message.date * 1000,
    chatTitle: 'title' in message.chat ? message.chat.title : undefined,
    ...(topic !== undefined && { threadId: topic }),
    ...(attachments.length > 0 && { attachments }),
  };
}

function sameUsername(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * The forum topic a message was written in. Outside forums message_thread_id marks a reply
 * thread, which Telegram does not show apart, so only topics count; General has no topic id.
 */
function forumTopic(message: Message): string | undefined {
  return message.is_topic_message && message.message_thread_id !== undefined ? String(message.message_thread_id) : undefined;
}

/** In forum topics every message "replies" to the topic's first message; that is not a reply. */
function realReply(message: Message): Message['reply_to_message'] {
  const reply = message.reply_to_message;
  if (!reply) return undefined;
  if (message.is_topic_message && reply.message_id === message.message_thread_id) return undefined;
  return reply;
}

/**
 * Cuts the ranges out (offsets are UTF-16 units, as JS strings count) and tidies the seams:
 * "@bot, what now?" -> "what now?", "hi @bot there" -> "hi there".
 */
function removeRanges(text: string, ranges: Range[]): string {
  let out = text;
  for (const r of [...ranges].sort((a, b) => b.start - a.start)) {
    const left = out.slice(0, r.start).replace(/[ \t]+$/, '');
    const right = out.slice(r.end).replace(/^[,:]/, '').replace(/^[ \t]+/, '');
    out = left && right && !/\n$/.test(left) && !/^\n/.test(right) ? `${left} ${right}` : left + right;
  }
  return out.trim();
}

import {
  isJidGroup,
  isLidUser,
  isPnUser,
  jidDecode,
  normalizeMessageContent,
  toNumber,
  type WAMessage,
  type proto,
} from '@whiskeysockets/baileys';
import type { Clock } from '../../src/clock.js';
import type { InboundAttachment, InboundMessage } from '../channel.js';
import { personId } from './identity.js';
import { whatsappMedia } from './media.js';

/** Who the bot is on WhatsApp: its phone-number jid and its LID (either may carry a device suffix). */
export interface BotIdentity {
  id?: string;
  lid?: string;
}

export interface NormaliseContext {
  me: BotIdentity;
  /** True when the bot sent this message id in this chat (for replies that name no author). */
  isOwnMessage(chatId: string, messageId: string): boolean;
  chatTitle(chatId: string): string | undefined;
  /** The time for a message that carries none. */
  now: Clock;
}

/** Turns one Baileys message into the host's InboundMessage, or undefined when there is nothing to pass on. */
export function normaliseMessage(msg: WAMessage, ctx: NormaliseContext): InboundMessage | undefined {
  const { key } = msg;
  const chatId = key.remoteJid;
  if (!chatId || !key.id) return undefined;
  const isGroup = isJidGroup(chatId) === true;
  const isDirect = isPnUser(chatId) === true || isLidUser(chatId) === true;
  if (!isGroup && !isDirect) return undefined; // status@broadcast, newsletters, broadcast lists, calls
  const body = readBody(normalizeMessageContent(msg.message));
  if (!body) return undefined;

  const fromMe = key.fromMe === true;
  // The author's jid and, from Baileys 7, its other form (phone number for a LID, or the reverse).
  const [senderJid, senderAlt] = fromMe ? [ctx.me.id, ctx.me.lid] : isGroup ? [key.participant, key.participantAlt] : [chatId, key.remoteJidAlt];
  const senderId = personId(senderJid, senderAlt);
  const mentions = (body.context?.mentionedJid ?? []).filter((j): j is string => typeof j === 'string' && j.length > 0);
  const replyTo = body.context?.stanzaId || undefined;
  const quotedAuthor = body.context?.participant ?? undefined;
  let text = stripMentions(body.text, ctx.me);
  let mentionsBot = mentions.some((j) => isBot(j, ctx.me));
  const ask = /^\/ask(?:\s+|$)([\s\S]*)$/i.exec(text);
  if (ask) {
    text = ask[1]!.trim();
    mentionsBot = true;
  }
  return {
    channel: 'whatsapp',
    chatId,
    platformId: key.id,
    senderId,
    senderName: msg.pushName || jidDecode(senderId)?.user || senderId,
    text,
    isDirect,
    mentionsBot,
    replyToBot: replyTo !== undefined && (isBot(quotedAuthor, ctx.me) || ctx.isOwnMessage(chatId, replyTo)),
    ...(replyTo ? { replyTo } : {}),
    mentions,
    fromBot: fromMe || isBot(senderJid ?? undefined, ctx.me) || isBot(senderAlt ?? undefined, ctx.me),
    timestamp: msg.messageTimestamp ? toNumber(msg.messageTimestamp) * 1000 : ctx.now(),
    ...(isGroup && ctx.chatTitle(chatId) ? { chatTitle: ctx.chatTitle(chatId) } : {}),
    ...(body.attachment && { attachments: [body.attachment] }),
  };
}

interface Body {
  text: string;
  context: proto.IContextInfo | null | undefined;
  attachment?: InboundAttachment;
}

function readBody(content: proto.IMessage | undefined): Body | undefined {
  if (!content || content.protocolMessage || content.reactionMessage) return undefined;
  if (content.conversation) return { text: content.conversation, context: undefined };
  if (content.extendedTextMessage) return { text: content.extendedTextMessage.text ?? '', context: content.extendedTextMessage.contextInfo };
  // A photo, voice note, document... : its caption is the text (empty without one).
  const media = whatsappMedia(content);
  if (!media) return undefined;
  return { text: media.caption, context: media.context, attachment: media.attachment };
}

/** Same account on the same kind of id (phone number or LID), whatever the device suffix. */
function isBot(jid: string | undefined, me: BotIdentity): boolean {
  const who = jidDecode(jid);
  if (!who) return false;
  return [me.id, me.lid].some((mine) => {
    const bot = jidDecode(mine);
    return bot !== undefined && bot.user === who.user && serverKind(bot.server) === serverKind(who.server);
  });
}

function serverKind(server: string): string {
  return server === 'c.us' ? 's.whatsapp.net' : server;
}

/** WhatsApp writes a mention as "@<number>" in the text: drop the bot's own. */
function stripMentions(text: string, me: BotIdentity): string {
  let out = text;
  for (const jid of [me.id, me.lid]) {
    const user = jidDecode(jid)?.user;
    if (user) out = out.replace(new RegExp(`@${user}(?!\\d)`, 'g'), '');
  }
  return out === text ? text.trim() : out.replace(/[ \t]{2,}/g, ' ').trim();
}

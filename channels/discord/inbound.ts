import type { ChatInputCommandInteraction, Message } from 'discord.js';
import type { InboundMessage } from '../channel.js';
import { commandText } from './commands.js';
import { discordAttachments } from './media.js';

export const CHANNEL_NAME = 'discord';

const USER_MENTION = /<@!?(\d+)>/g;

/**
 * A Discord message as the host sees it, or undefined for what is never handed on: messages by
 * bots and webhooks (ourselves included) and system notices (joins, pins, ...).
 */
export function messageToInbound(message: Message, botId: string): InboundMessage | undefined {
  if (message.author.bot || message.webhookId || message.system) return undefined;
  const inGuild = message.inGuild();
  const repliedTo = message.reference?.messageId;
  const attachments = discordAttachments(message);
  return {
    channel: CHANNEL_NAME,
    chatId: message.channelId,
    platformId: message.id,
    senderId: message.author.id,
    senderName: message.member?.displayName ?? message.author.globalName ?? message.author.username,
    text: readableText(message, botId),
    isDirect: !inGuild,
    mentionsBot: mentionsBot(message, botId),
    replyToBot: repliedTo !== undefined && repliesToBot(message, repliedTo, botId),
    ...(repliedTo !== undefined && { replyTo: repliedTo }),
    mentions: [...new Set([...message.content.matchAll(USER_MENTION)].map((m) => m[1]!))],
    fromBot: false,
    timestamp: message.createdTimestamp,
    ...(inGuild && { chatTitle: `${message.guild.name} #${'name' in message.channel ? message.channel.name : message.channelId}` }),
    ...(attachments.length > 0 && { attachments }),
  };
}

/** A slash command (/ask, /status, ...) as a message from its user; platformId is the interaction id. */
export function interactionToInbound(interaction: ChatInputCommandInteraction): InboundMessage {
  const inGuild = interaction.inGuild();
  const channelName = interaction.channel && 'name' in interaction.channel ? interaction.channel.name : undefined;
  const member = interaction.member && 'displayName' in interaction.member ? interaction.member.displayName : undefined;
  const { text, isAsk } = commandText(interaction);
  return {
    channel: CHANNEL_NAME,
    chatId: interaction.channelId,
    platformId: interaction.id,
    senderId: interaction.user.id,
    senderName: member ?? interaction.user.globalName ?? interaction.user.username,
    text,
    isDirect: !inGuild,
    mentionsBot: isAsk,
    replyToBot: false,
    mentions: [],
    fromBot: interaction.user.bot,
    timestamp: interaction.createdTimestamp,
    ...(inGuild && interaction.guild && channelName !== undefined && { chatTitle: `${interaction.guild.name} #${channelName}` }),
  };
}

/** The bot's own mention removed; other users' mentions shown as @name so the agent can read them. */
function readableText(message: Message, botId: string): string {
  const users = message.mentions.users;
  return message.content
    .replace(USER_MENTION, (raw, id: string) => {
      if (id === botId) return '';
      const user = users.get(id);
      return user ? `@${user.globalName ?? user.username}` : raw;
    })
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/** Typed @Bot, written <@id> or <@!id>, or the bot's own managed role. Not merely replying to it. */
function mentionsBot(message: Message, botId: string): boolean {
  for (const match of message.content.matchAll(USER_MENTION)) if (match[1] === botId) return true;
  return message.mentions.roles.some((role) => role.tags?.botId === botId);
}

function repliesToBot(message: Message, repliedTo: string, botId: string): boolean {
  if (message.mentions.repliedUser) return message.mentions.repliedUser.id === botId;
  return message.channel.messages.cache.get(repliedTo)?.author.id === botId;
}

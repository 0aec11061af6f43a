import { z } from 'zod';
import type { InboundMessage } from '../channel.js';
import { slackAttachments, slackFileSchema } from './media.js';
import { commandRef, messageRef } from './message-ref.js';
import { mentionedUsers, slackToPlain } from './mrkdwn.js';

/** The fields Enclave reads from a `message` or `app_mention` event; anything else is ignored. */
export const slackMessageEventSchema = z.object({
  type: z.enum(['message', 'app_mention']),
  subtype: z.string().optional(),
  channel: z.string().min(1),
  channel_type: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  text: z.string().default(''),
  ts: z.string().regex(/^\d+\.\d+$/),
  thread_ts: z.string().optional(),
  /** Present on thread replies: who posted the thread's first message. */
  parent_user_id: z.string().optional(),
  files: z.array(slackFileSchema).optional(),
});
export type SlackMessageEvent = z.infer<typeof slackMessageEventSchema>;

export const slashCommandSchema = z.object({
  command: z.string().min(1),
  text: z.string().default(''),
  user_id: z.string().min(1),
  user_name: z.string().optional(),
  channel_id: z.string().min(1),
  channel_name: z.string().optional(),
  trigger_id: z.string().min(1),
});
export type SlashCommandPayload = z.infer<typeof slashCommandSchema>;

export interface SlackBotIdentity {
  userId: string;
  botId: string;
}

/** Subtypes that are someone saying something. Edits, deletions, joins and the like are not. */
const SPOKEN_SUBTYPES = new Set<string | undefined>([undefined, 'thread_broadcast', 'file_share', 'me_message', 'bot_message']);

export function isSpoken(ev: SlackMessageEvent): boolean {
  return SPOKEN_SUBTYPES.has(ev.subtype);
}

export interface MessageLookups {
  senderName: string;
  chatTitle?: string;
  /** The bot has answered in this message's thread before. */
  botInThread: boolean;
  /** channels.slack.replyInThread: a top-level channel message starts a thread the conversation goes on in. */
  replyInThread?: boolean;
}

/** Slack's one-to-one conversation ids start with D (channels C, private channels and group DMs G). */
export function isDmChannel(channelId: string): boolean {
  return channelId.startsWith('D');
}

export function inThread(ev: SlackMessageEvent): boolean {
  return ev.thread_ts !== undefined && ev.thread_ts !== ev.ts;
}

export function normaliseMessage(ev: SlackMessageEvent, bot: SlackBotIdentity, lookups: MessageLookups): InboundMessage {
  const threaded = inThread(ev);
  const thread = conversationThread(ev, lookups);
  const mentions = mentionedUsers(ev.text);
  const attachments = slackAttachments(ev.files);
  return {
    channel: 'slack',
    chatId: ev.channel,
    platformId: messageRef(ev.ts, ev.thread_ts),
    senderId: ev.user ?? ev.bot_id ?? 'unknown',
    senderName: lookups.senderName,
    text: slackToPlain(ev.text, bot.userId),
    isDirect: ev.channel_type === 'im' || (ev.channel_type === undefined && isDmChannel(ev.channel)),
    mentionsBot: ev.type === 'app_mention' || mentions.includes(bot.userId),
    replyToBot: threaded && (ev.parent_user_id === bot.userId || lookups.botInThread),
    replyTo: threaded ? ev.thread_ts : undefined,
    mentions,
    fromBot: ev.bot_id !== undefined || ev.subtype === 'bot_message' || ev.user === bot.userId,
    timestamp: Math.round(Number(ev.ts) * 1000),
    chatTitle: lookups.chatTitle,
    ...(thread !== undefined && { threadId: thread }),
    ...(attachments.length > 0 && { attachments }),
  };
}

/** The thread the conversation is in: the message's own, or (replyInThread, outside DMs) the one it starts. */
function conversationThread(ev: SlackMessageEvent, lookups: MessageLookups): string | undefined {
  if (inThread(ev)) return ev.thread_ts;
  return lookups.replyInThread && !isDmChannel(ev.channel) ? ev.ts : undefined;
}

export interface CommandNames {
  askCommand: string;
  hostCommand: string;
}

/**
 * `/ask <text>` -> <text> addressed to the bot; `/enclave status x` -> "/status x" for the host
 * to answer. undefined when there is nothing to pass on (an empty /ask, another command).
 */
export function normaliseCommand(
  cmd: SlashCommandPayload,
  names: CommandNames,
  bot: SlackBotIdentity,
  now: number,
): InboundMessage | undefined {
  const text = commandText(slackToPlain(cmd.text, bot.userId), cmd.command, names);
  if (text === undefined) return undefined;
  const direct = cmd.channel_name === 'directmessage' || isDmChannel(cmd.channel_id);
  const titled = cmd.channel_name && !['directmessage', 'privategroup'].includes(cmd.channel_name);
  return {
    channel: 'slack',
    chatId: cmd.channel_id,
    platformId: commandRef(cmd.trigger_id),
    senderId: cmd.user_id,
    senderName: cmd.user_name ?? cmd.user_id,
    text,
    isDirect: direct,
    mentionsBot: true,
    replyToBot: false,
    mentions: mentionedUsers(cmd.text),
    fromBot: false,
    timestamp: now,
    chatTitle: titled ? cmd.channel_name : undefined,
  };
}

function commandText(args: string, command: string, names: CommandNames): string | undefined {
  if (command === names.askCommand) return args === '' ? undefined : args;
  if (command !== names.hostCommand) return undefined;
  const hostCommand = args.replace(/^\/+/, '');
  return hostCommand === '' ? '/help' : `/${hostCommand}`;
}

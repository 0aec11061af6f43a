import { Routes, type REST, type RESTPostAPIChannelMessageResult } from 'discord.js';
import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import { BlockDisplay } from '../live/block-display.js';
import { EditDisplay } from '../live/edit-display.js';
import type { LivePort } from '../live/live-port.js';
import { channelMessageBody, classifySendError } from './outbound.js';

/** A message's new text; like a post, it never pings anyone. */
function editBody(text: string) {
  return { content: text, allowed_mentions: { parse: [] } };
}

export async function editDiscordMessage(rest: REST, chatId: string, messageId: string, text: string): Promise<void> {
  try {
    await rest.patch(Routes.channelMessage(chatId, messageId), { body: editBody(text) });
  } catch (err) {
    throw classifySendError(err, chatId);
  }
}

/** Posts to the channel (a reply to the question) and edits that message as the answer grows. */
class DiscordLivePort implements LivePort {
  constructor(
    private readonly rest: REST,
    private readonly target: LiveTarget,
    readonly maxMessageLength: number,
  ) {}

  async post(text: string): Promise<string> {
    try {
      const sent = (await this.rest.post(Routes.channelMessages(this.target.chatId), { body: channelMessageBody(text, this.target.replyTo) })) as RESTPostAPIChannelMessageResult;
      return sent.id;
    } catch (err) {
      throw classifySendError(err, this.target.chatId);
    }
  }

  edit(messageId: string, text: string): Promise<void> {
    return editDiscordMessage(this.rest, this.target.chatId, messageId, text);
  }
}

export function startDiscordLiveReply(rest: REST, target: LiveTarget, maxMessageLength: number, options: LiveReplyOptions): LiveReplyDisplay {
  const port = new DiscordLivePort(rest, target, maxMessageLength);
  return options.mode === 'blocks' ? new BlockDisplay(port, options) : new EditDisplay(port, options);
}

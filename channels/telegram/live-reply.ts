import { GrammyError, type Api } from 'grammy';
import type { Logger } from '../../src/logger.js';
import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import { BlockDisplay } from '../live/block-display.js';
import { EditDisplay } from '../live/edit-display.js';
import type { LivePort } from '../live/live-port.js';
import { classifySendError, isUnparsableHtml } from './errors.js';
import { markdownToTelegramHtml } from './format.js';

/** Telegram answers 400 to an edit that changes nothing; for a live reply that is success. */
function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /message is not modified/i.test(err.description);
}

/** One API call with Telegram's HTML first and plain text when Telegram cannot parse the HTML. */
async function withHtml<T>(call: (text: string, html: boolean) => Promise<T>, text: string): Promise<T> {
  try {
    return await call(markdownToTelegramHtml(text), true);
  } catch (err) {
    if (!isUnparsableHtml(err)) throw err;
    return call(text, false);
  }
}

/** sendMessage and editMessageText for one chat, failing as Channel.send does (retry_after becomes RetryAfterError). */
export class TelegramLivePort implements LivePort {
  readonly maxMessageLength = 4096;

  constructor(
    private readonly api: Api,
    private readonly target: LiveTarget,
    private readonly log?: Logger,
  ) {}

  async post(text: string): Promise<string> {
    const thread = this.target.threadId !== undefined && /^\d+$/.test(this.target.threadId) ? { message_thread_id: Number(this.target.threadId) } : {};
    const reply =
      this.target.replyTo !== undefined && /^\d+$/.test(this.target.replyTo)
        ? { reply_parameters: { message_id: Number(this.target.replyTo), allow_sending_without_reply: true } }
        : {};
    try {
      const sent = await withHtml((body, html) => this.api.sendMessage(this.target.chatId, body, { ...thread, ...reply, ...(html && { parse_mode: 'HTML' as const }) }), text);
      return String(sent.message_id);
    } catch (err) {
      throw classifySendError(err, this.target.chatId);
    }
  }

  async edit(messageId: string, text: string): Promise<void> {
    await editTelegramMessage(this.api, this.target.chatId, messageId, text, this.log);
  }
}

/** Replaces a message's text (HTML, plain when unparsable); an edit to the same text counts as done. */
export async function editTelegramMessage(api: Api, chatId: string, messageId: string, text: string, log?: Logger): Promise<void> {
  try {
    await withHtml((body, html) => api.editMessageText(chatId, Number(messageId), body, html ? { parse_mode: 'HTML' } : {}), text);
  } catch (err) {
    if (isNotModified(err)) return;
    log?.debug({ channel: 'telegram', chat: chatId, err: String(err) }, 'editMessageText failed');
    throw classifySendError(err, chatId);
  }
}

export function startTelegramLiveReply(api: Api, target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
  const port = new TelegramLivePort(api, target, options.log);
  return options.mode === 'blocks' ? new BlockDisplay(port, options) : new EditDisplay(port, options);
}

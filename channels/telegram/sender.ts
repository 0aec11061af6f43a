import type { Api } from 'grammy';
import type { Logger } from '../../src/logger.js';
import type { OutboundMessage } from '../channel.js';
import { ChatRateLimiter, type PacingTime } from '../rate-limiter.js';
import { apiSignal, type ApiSignal } from './api-signal.js';
import type { TelegramConfig } from './config.js';
import { classifySendError, isUnparsableHtml, RequestTimeoutError } from './errors.js';
import { markdownToTelegramHtml } from './format.js';

interface ReplyOptions {
  reply_parameters?: { message_id: number; allow_sending_without_reply: boolean };
  /** The forum topic to post in. */
  message_thread_id?: number;
}

/**
 * Sends one chunk, once: paced per chat (groups slower than private chats), as HTML first and
 * as plain text if Telegram cannot parse the HTML. A failure is classified for the outbox
 * (see classifySendError), which alone decides whether and when to try again.
 */
export class TelegramSender {
  private readonly privateChats: ChatRateLimiter;
  private readonly groupChats: ChatRateLimiter;

  constructor(
    private readonly api: Api,
    private readonly config: TelegramConfig,
    private readonly log: Logger,
    pacing: PacingTime = {},
  ) {
    const { privateIntervalMs, groupIntervalMs, burst } = config.rateLimit;
    this.privateChats = new ChatRateLimiter(privateIntervalMs, burst, pacing);
    this.groupChats = new ChatRateLimiter(groupIntervalMs, burst, pacing);
  }

  async send(msg: OutboundMessage): Promise<void> {
    const limiter = msg.chatId.startsWith('-') ? this.groupChats : this.privateChats;
    await limiter.take(msg.chatId);
    try {
      await this.post(msg);
    } catch (err) {
      throw classifySendError(err, msg.chatId);
    }
  }

  /** HTML first; plain text when Telegram cannot parse the HTML. */
  private async post(msg: OutboundMessage): Promise<void> {
    const reply = replyOptions(msg.replyTo, msg.threadId);
    try {
      await this.bounded('sendMessage', (signal) => this.api.sendMessage(msg.chatId, markdownToTelegramHtml(msg.text), { ...reply, parse_mode: 'HTML' }, signal));
      return;
    } catch (err) {
      if (!isUnparsableHtml(err)) throw err;
      this.log.warn({ channel: 'telegram', chat: msg.chatId }, 'Telegram could not parse the HTML reply; sending it as plain text');
    }
    await this.bounded('sendMessage', (signal) => this.api.sendMessage(msg.chatId, msg.text, reply, signal));
  }

  /** Telegram shows "typing..." for about 5 seconds; the host repeats this while the agent works. */
  async typing(chatId: string, threadId?: string): Promise<void> {
    const topic = replyOptions(undefined, threadId);
    await this.bounded('sendChatAction', (signal) => this.api.sendChatAction(chatId, 'typing', topic, signal)).catch((err: unknown) => {
      this.log.debug({ channel: 'telegram', chat: chatId, err: String(err) }, 'typing action failed');
    });
  }

  /** One API call that fails with RequestTimeoutError when Telegram has not answered in time. */
  private async bounded<T>(method: string, call: (signal: ApiSignal) => Promise<T>): Promise<T> {
    const seconds = this.config.requestTimeoutSeconds;
    const signal = AbortSignal.timeout(seconds * 1000);
    try {
      return await call(apiSignal(signal));
    } catch (err) {
      if (signal.aborted) throw new RequestTimeoutError(method, seconds, { cause: err });
      throw err;
    }
  }
}

function replyOptions(replyTo: string | undefined, threadId: string | undefined): ReplyOptions {
  const isId = (id: string | undefined): id is string => id !== undefined && /^\d+$/.test(id);
  return {
    ...(isId(replyTo) && { reply_parameters: { message_id: Number(replyTo), allow_sending_without_reply: true } }),
    ...(isId(threadId) && { message_thread_id: Number(threadId) }),
  };
}

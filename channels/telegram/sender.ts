import type { Api } from 'grammy';
import type { Logger } from '../../src/logger.js';
import { withRetries } from '../backoff.js';
import type { OutboundMessage } from '../channel.js';
import { ChatRateLimiter } from '../rate-limiter.js';
import type { TelegramConfig } from './config.js';
import { isTransient, isUnparsableHtml, retryAfterMs, sendFailureReason } from './errors.js';
import { markdownToTelegramHtml } from './format.js';

interface ReplyOptions {
  reply_parameters?: { message_id: number; allow_sending_without_reply: boolean };
}

/**
 * Sends one chunk: paced per chat (groups slower than private chats), as HTML first and as
 * plain text if Telegram cannot parse the HTML, retried on 429 (after Telegram's retry_after),
 * 5xx and network failures. Throws an Error saying why on anything permanent.
 */
export class TelegramSender {
  private readonly privateChats: ChatRateLimiter;
  private readonly groupChats: ChatRateLimiter;

  constructor(
    private readonly api: Api,
    private readonly config: TelegramConfig,
    private readonly log: Logger,
  ) {
    const { privateIntervalMs, groupIntervalMs, burst } = config.rateLimit;
    this.privateChats = new ChatRateLimiter(privateIntervalMs, burst);
    this.groupChats = new ChatRateLimiter(groupIntervalMs, burst);
  }

  async send(msg: OutboundMessage): Promise<void> {
    const limiter = msg.chatId.startsWith('-') ? this.groupChats : this.privateChats;
    await limiter.take(msg.chatId);
    const reply = replyOptions(msg.replyTo);
    let plain = false;
    const attempt = async () => {
      if (!plain) {
        try {
          await this.api.sendMessage(msg.chatId, markdownToTelegramHtml(msg.text), { ...reply, parse_mode: 'HTML' });
          return;
        } catch (err) {
          if (!isUnparsableHtml(err)) throw err;
          this.log.warn({ channel: 'telegram', chat: msg.chatId }, 'Telegram could not parse the HTML reply; sending it as plain text');
          plain = true;
        }
      }
      await this.api.sendMessage(msg.chatId, msg.text, reply);
    };
    try {
      await withRetries(attempt, { attempts: this.config.sendAttempts, isRetryable: isTransient, retryAfterMs });
    } catch (err) {
      throw new Error(sendFailureReason(err, msg.chatId), { cause: err });
    }
  }

  /** Telegram shows "typing..." for about 5 seconds; the host repeats this while the agent works. */
  async typing(chatId: string): Promise<void> {
    await this.api.sendChatAction(chatId, 'typing').catch((err: unknown) => {
      this.log.debug({ channel: 'telegram', chat: chatId, err: String(err) }, 'typing action failed');
    });
  }
}

function replyOptions(replyTo: string | undefined): ReplyOptions {
  if (!replyTo || !/^\d+$/.test(replyTo)) return {};
  return { reply_parameters: { message_id: Number(replyTo), allow_sending_without_reply: true } };
}

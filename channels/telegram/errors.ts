import { GrammyError, HttpError } from 'grammy';
import { PermanentSendError, RetryAfterError } from '../channel.js';
import { formatChatRef } from '../chat-ref.js';

/** A Bot API call that got no answer within channels.telegram.requestTimeoutSeconds. */
export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly seconds: number,
    options?: { cause?: unknown },
  ) {
    super(`the Telegram Bot API did not answer ${method} within ${seconds} s`, options);
    this.name = 'RequestTimeoutError';
  }
}

/** Telegram answered 401/404 to a bot call: the token is wrong or revoked. Retrying cannot help. */
export function isBadToken(err: unknown): boolean {
  return err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404);
}

/** Another process is taking this bot's updates (getUpdates or a webhook). */
export function isConflict(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 409;
}

/**
 * Telegram refused the request itself: the bot is blocked, kicked or not a member (403), the
 * chat does not exist or moved to a supergroup (400), the token is wrong (401/404). Sending
 * the same message again cannot succeed.
 */
export function isPermanentSendFailure(err: unknown): boolean {
  return err instanceof GrammyError && [400, 401, 403, 404].includes(err.error_code);
}

/** Telegram's own "retry after N seconds", in ms. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof GrammyError)) return undefined;
  const seconds = err.parameters.retry_after;
  return seconds === undefined ? undefined : seconds * 1000;
}

export function isUnparsableHtml(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /can't parse entities/i.test(err.description);
}

/** The Telegram error in words, without request payloads (they hold message text). */
export function describe(err: unknown): string {
  if (err instanceof GrammyError) return `Telegram answered ${err.error_code}: ${err.description}`;
  if (err instanceof HttpError) return `cannot reach the Telegram Bot API (${networkCause(err.error)})`;
  if (err instanceof RequestTimeoutError) return err.message;
  return withoutToken(err instanceof Error ? err.message : String(err));
}

/** A failed send as the outbox reads it: given up, retried after Telegram's retry_after, or retried after a backoff. */
export function classifySendError(err: unknown, chatId: string): Error {
  const reason = sendFailureReason(err, chatId);
  const wait = retryAfterMs(err);
  if (wait !== undefined) return new RetryAfterError(reason, wait, { cause: err });
  if (isPermanentSendFailure(err)) return new PermanentSendError(reason, { cause: err });
  return new Error(reason, { cause: err });
}

/** Why a message could not be sent, with what to do about it where Telegram tells us. */
export function sendFailureReason(err: unknown, chatId: string): string {
  if (err instanceof GrammyError) {
    const movedTo = err.parameters.migrate_to_chat_id;
    if (movedTo !== undefined) return `Telegram chat ${chatId} became supergroup ${movedTo}: map ${formatChatRef({ channel: 'telegram', chatId: String(movedTo) })} in group.yaml instead`;
    if (err.error_code === 403) {
      return `Telegram refused to deliver to chat ${chatId} (${err.description}): the bot was blocked or removed from the chat; add it back (or have the person send /start to the bot) for later replies to arrive`;
    }
    if (err.error_code === 400 && /chat not found/i.test(err.description)) {
      return `Telegram has no chat ${chatId} the bot can reach (${err.description}): check the chat id in group.yaml and that the bot is a member of the chat`;
    }
    if (isBadToken(err)) return `Telegram rejected the bot token (${describe(err)}): store the token from @BotFather in the vault and restart`;
  }
  return `Telegram sendMessage to chat ${chatId} failed: ${describe(err)}`;
}

/** Fetch errors quote the request URL, and the URL holds the token. */
function networkCause(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? withoutToken(err.message) : 'network error';
}

function withoutToken(text: string): string {
  return text.replace(/\/bot[^/\s]+\//g, '/bot[redacted]/');
}

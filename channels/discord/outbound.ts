import {
  DiscordAPIError,
  HTTPError,
  RateLimitError,
  RESTJSONErrorCodes,
  Routes,
  type RateLimitData,
  type REST,
  type RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';
import { PermanentSendError, RetryAfterError } from '../channel.js';

/**
 * Text from a model never pings @everyone, @here, roles or users; only the replied-to person is
 * notified, as a reply normally does.
 */
export function channelMessageBody(text: string, replyTo?: string): RESTPostAPIChannelMessageJSONBody {
  return {
    content: text,
    allowed_mentions: { parse: [], replied_user: true },
    ...(replyTo !== undefined && { message_reference: { message_id: replyTo, fail_if_not_exists: false } }),
  };
}

/** Posts one message to a channel (guild channel, thread or DM), once. */
export async function postChannelMessage(rest: REST, chatId: string, text: string, replyTo?: string): Promise<void> {
  await rest.post(Routes.channelMessages(chatId), { body: channelMessageBody(text, replyTo) });
}

/**
 * discord.js's rejectOnRateLimit: a rate-limited message (a post, or an interaction's edit or
 * follow-up) fails with its retry-after for the outbox to wait out, instead of discord.js waiting
 * inside send(); other calls (login, commands, typing) are still waited out by discord.js.
 */
export function rejectMessageRateLimits(data: RateLimitData): boolean {
  return data.route.includes('/messages') || data.route.startsWith('/webhooks');
}

/** A failed send as the outbox reads it: given up, retried after Discord's retry-after, or retried after a backoff. */
export function classifySendError(err: unknown, chatId: string): Error {
  const reason = describeSendError(err, chatId);
  if (err instanceof RateLimitError) return new RetryAfterError(reason, err.retryAfter, { cause: err });
  if (isPermanentSendFailure(err)) return new PermanentSendError(reason, { cause: err });
  return new Error(reason, { cause: err });
}

/**
 * Discord refused the message itself (no access, no permission, unknown channel, a user who takes
 * no DMs, a bad token, a malformed request): sending it again cannot succeed. A 429 is not one.
 */
export function isPermanentSendFailure(err: unknown): boolean {
  if (!(err instanceof DiscordAPIError)) return false;
  if (PERMANENT_CODES.has(Number(err.code))) return true;
  return err.status >= 400 && err.status < 500 && err.status !== 429;
}

const PERMANENT_CODES = new Set<number>([
  RESTJSONErrorCodes.MissingAccess,
  RESTJSONErrorCodes.MissingPermissions,
  RESTJSONErrorCodes.UnknownChannel,
  RESTJSONErrorCodes.CannotSendMessagesToThisUser,
]);

export function isUnauthorized(err: unknown): boolean {
  return err instanceof DiscordAPIError && err.status === 401;
}

/** The interaction's token expired or was never valid: answer in the channel instead. */
export function isDeadInteraction(err: unknown): boolean {
  if (!(err instanceof DiscordAPIError)) return false;
  return (
    err.code === RESTJSONErrorCodes.InvalidWebhookToken ||
    err.code === RESTJSONErrorCodes.UnknownWebhook ||
    err.code === RESTJSONErrorCodes.UnknownInteraction ||
    err.status === 401 ||
    err.status === 404
  );
}

/** Why a send failed, in words a person can act on. */
export function describeSendError(err: unknown, chatId: string): string {
  if (err instanceof DiscordAPIError) {
    if (err.status === 401) return 'Discord rejected the bot token (401): store a valid token in the vault and restart';
    if (err.code === RESTJSONErrorCodes.UnknownChannel) return `Discord channel ${chatId} does not exist or the bot cannot see it: check the chat id in group.yaml`;
    if (err.code === RESTJSONErrorCodes.CannotSendMessagesToThisUser) {
      return `the Discord user of DM ${chatId} does not accept messages from the bot (DMs closed, or no server shared with it)`;
    }
    if (err.code === RESTJSONErrorCodes.MissingAccess || err.code === RESTJSONErrorCodes.MissingPermissions || err.status === 403) {
      return `the bot may not post in Discord channel ${chatId}: give it the View Channel and Send Messages permissions`;
    }
    return `Discord refused the message to ${chatId} (${err.status}, code ${String(err.code)}): ${err.message}`;
  }
  if (err instanceof RateLimitError) return `Discord is rate limiting the bot in ${chatId}; the message is sent after ${Math.ceil(err.retryAfter / 1000)} s`;
  if (err instanceof HTTPError) return `Discord is failing (${err.status} ${err.message}); the message is retried later`;
  return `Discord could not be reached (${err instanceof Error ? err.message : String(err)}); the message is retried later`;
}

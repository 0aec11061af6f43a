import { DiscordAPIError, DiscordjsError, DiscordjsRangeError, DiscordjsTypeError, HTTPError, RESTJSONErrorCodes, Routes, type REST, type RESTPostAPIChannelMessageJSONBody } from 'discord.js';
import { withRetries } from '../backoff.js';

/** Attempts of one send on 5xx, timeouts and network failures; discord.js itself waits out 429s. */
const SEND_ATTEMPTS = 3;

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

/** Posts one message to a channel (guild channel, thread or DM), retrying transient failures. */
export async function postChannelMessage(rest: REST, chatId: string, text: string, replyTo?: string): Promise<void> {
  const body = channelMessageBody(text, replyTo);
  await withRetries(() => rest.post(Routes.channelMessages(chatId), { body }), { attempts: SEND_ATTEMPTS, isRetryable: isTransient });
}

/** Server errors, timeouts and network failures; never a 4xx or a bad argument. */
export function isTransient(err: unknown): boolean {
  const refused = err instanceof DiscordAPIError || err instanceof DiscordjsError || err instanceof DiscordjsTypeError || err instanceof DiscordjsRangeError;
  return !refused;
}

/**
 * Discord refused the message itself (no access, no permission, unknown channel, a user who takes
 * no DMs, a bad token, a malformed request): sending it again cannot succeed. discord.js waits out
 * 429s itself, so a 429 never gets here as a refusal.
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
  if (err instanceof HTTPError) return `Discord is failing (${err.status} ${err.message}); the message is retried later`;
  return `Discord could not be reached (${err instanceof Error ? err.message : String(err)}); the message is retried later`;
}

import { webApi } from '@slack/bolt';
import { PermanentSendError, RetryAfterError } from '../channel.js';

/**
 * What a failed Slack Web API call means for us. Errors are told apart by their `code`, not
 * instanceof, because the Socket Mode client may load its own copy of @slack/web-api.
 */

const { ErrorCode } = webApi;

/** The token itself is bad: retrying cannot help, a person must fix it. */
const AUTH_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'user_removed_from_team',
  'team_disabled',
  'not_allowed_token_type',
]);

/** Platform errors Slack itself calls temporary. */
const TEMPORARY_PLATFORM_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);

const NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** Refusals of a message that no retry can turn into a delivery (besides AUTH_ERRORS). */
const PERMANENT_SEND_ERRORS = new Set(['not_in_channel', 'channel_not_found', 'is_archived', 'restricted_action']);

/** What to do about a message Slack refused for good. */
const SEND_HINTS: Record<string, string> = {
  not_in_channel: 'invite the bot to the channel (/invite @bot)',
  channel_not_found: 'the bot cannot see this channel: invite it, or check the chat id in group.yaml',
  is_archived: 'the channel is archived',
  msg_too_long: 'the message is too long: lower channels.slack.maxMessageLength',
  restricted_action: 'a workspace admin has restricted posting in this channel',
  missing_scope: 'add the chat:write scope to the Slack app and reinstall it',
};

interface CodedError {
  code: string;
  data?: { error?: string };
  retryAfter?: number;
  statusCode?: number;
  original?: { message?: string };
}

function coded(err: unknown): CodedError | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string') return undefined;
  return err as CodedError;
}

/** Slack's own error string ("invalid_auth", "not_in_channel"...), when the API answered with one. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = coded(err);
  return e?.code === ErrorCode.PlatformError ? e.data?.error : undefined;
}

export function isAuthFailure(err: unknown): boolean {
  const code = slackErrorCode(err);
  return code !== undefined && AUTH_ERRORS.has(code);
}

/** Slack refused the message in a way that sending it again cannot fix, or refused the bot token itself. */
export function isPermanentSendFailure(err: unknown): boolean {
  const code = slackErrorCode(err);
  return code !== undefined && (PERMANENT_SEND_ERRORS.has(code) || AUTH_ERRORS.has(code));
}

/** Worth trying again later: network trouble, 5xx, rate limits, Slack's temporary errors. */
export function isTransient(err: unknown): boolean {
  const e = coded(err);
  if (!e) return true;
  switch (e.code) {
    case ErrorCode.RateLimitedError:
    case ErrorCode.RequestError:
      return true;
    case ErrorCode.HTTPError:
      return e.statusCode === undefined || e.statusCode >= 500 || e.statusCode === 408;
    case ErrorCode.PlatformError:
      return TEMPORARY_PLATFORM_ERRORS.has(e.data?.error ?? '');
    default:
      return NETWORK_ERRORS.has(e.code);
  }
}

export function retryAfterMs(err: unknown): number | undefined {
  const e = coded(err);
  return e?.code === ErrorCode.RateLimitedError && typeof e.retryAfter === 'number' ? e.retryAfter * 1000 : undefined;
}

/** A short reason, without tokens or request bodies. */
export function describeSlackError(err: unknown): string {
  const e = coded(err);
  if (e?.code === ErrorCode.PlatformError) {
    const code = e.data?.error ?? 'unknown_error';
    const hint = SEND_HINTS[code];
    return hint ? `${code} (${hint})` : code;
  }
  if (e?.code === ErrorCode.RateLimitedError) return `rate limited, retry after ${e.retryAfter ?? '?'} s`;
  if (e?.code === ErrorCode.HTTPError) return `HTTP ${e.statusCode ?? '?'} from Slack`;
  if (e?.code === ErrorCode.RequestError) return `cannot reach Slack: ${e.original?.message ?? 'request failed'}`;
  return err instanceof Error ? err.message : String(err);
}

/** A failed send as the outbox reads it: given up, retried after Slack's Retry-After, or retried after a backoff. */
export function classifySendError(err: unknown, chatId: string): Error {
  const reason = `Slack did not take the message for ${chatId}: ${describeSlackError(err)}`;
  const wait = retryAfterMs(err);
  if (wait !== undefined) return new RetryAfterError(reason, wait, { cause: err });
  if (isPermanentSendFailure(err)) return new PermanentSendError(reason, { cause: err });
  return new Error(reason, { cause: err });
}

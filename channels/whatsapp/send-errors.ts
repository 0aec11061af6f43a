import { PermanentSendError, RetryAfterError } from '../channel.js';
import { statusCodeOf } from './disconnect.js';

/** Thrown while the socket is down and a reconnect is under way. */
export class NotConnectedError extends Error {}

/**
 * WhatsApp's refusals that no retry can fix, by status code (Baileys' own Boom) or by the code of
 * the server's error node (Boom data): a malformed message (400), not authorised to write there
 * (401), forbidden, e.g. no longer in the group (403), no such chat (404).
 */
const PERMANENT_CODES: Record<number, string> = {
  400: 'WhatsApp rejected the message as malformed',
  401: 'the account may not write to this chat (removed from the group, or this device was logged out)',
  403: 'the account may not write to this chat (not a member of the group any more, or restricted)',
  404: 'WhatsApp has no such chat: check the chat id in group.yaml',
};

const PERMANENT_NAMES: Record<string, number> = { 'bad-request': 400, 'not-authorized': 401, forbidden: 403, 'item-not-found': 404 };

/** The permanent refusal's code, or undefined when the failure may pass. */
function permanentCode(err: unknown): number | undefined {
  if (err instanceof NotConnectedError) return undefined;
  const status = statusCodeOf(err);
  if (status !== undefined && status in PERMANENT_CODES) return status;
  const data = (err as { data?: unknown } | undefined)?.data;
  if (typeof data === 'number' && data in PERMANENT_CODES) return data;
  return err instanceof Error ? PERMANENT_NAMES[err.message] : undefined;
}

export function isPermanentSendFailure(err: unknown): boolean {
  return permanentCode(err) !== undefined;
}

/** WhatsApp says 429 (rate-overlimit) without a time; ten seconds lets its window pass. */
const RATE_LIMIT_WAIT_MS = 10_000;

/**
 * A failed send as the outbox reads it: given up (a refusal, or the channel failed for good),
 * retried after a pause (rate limited), or retried after a backoff (not connected, timeouts, 5xx).
 */
export function classifySendError(err: unknown, chatId: string, failedForGood: boolean): Error {
  const reason = sendFailureReason(err, chatId);
  if (isPermanentSendFailure(err) || failedForGood) return new PermanentSendError(reason, { cause: err });
  if (statusCodeOf(err) === 429) return new RetryAfterError(reason, RATE_LIMIT_WAIT_MS, { cause: err });
  return new Error(reason, { cause: err });
}

/** Why a send failed, with what to do when it cannot succeed. */
export function sendFailureReason(err: unknown, chatId: string): string {
  const code = permanentCode(err);
  const hint = code === undefined ? '' : ` (${PERMANENT_CODES[code]})`;
  return `WhatsApp could not send to ${chatId}: ${describe(err)}${hint}`;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { DisconnectReason } from '@whiskeysockets/baileys';

/**
 * What to do after WhatsApp closed the connection, decided by Baileys' status code.
 * - reconnect: now (immediately) or after backoff;
 * - stop: a person must act; `error` says what, and `wipe` drops the stored session first.
 */
export type DisconnectAction =
  | { kind: 'reconnect'; immediately: boolean; wipe: boolean; reason: string; error?: string }
  | { kind: 'stop'; wipe: boolean; error: string };

export const LOGGED_OUT_ERROR = 'WhatsApp logged this device out: run `enclave pair whatsapp` or restart to scan a new QR';

/**
 * Baileys also reports 500 (badSession) for unknown socket and stream errors, so one 500 alone
 * does not prove the session broken: it is wiped only when this many closes in a row say so.
 */
export const BAD_SESSION_WIPE_AFTER = 3;

/** `badSessionsInARow` counts this close too when it is a badSession. */
export function disconnectAction(statusCode: number | undefined, message: string, badSessionsInARow = 0): DisconnectAction {
  switch (statusCode) {
    case DisconnectReason.restartRequired:
      return { kind: 'reconnect', immediately: true, wipe: false, reason: 'WhatsApp asked for a restart (normal right after linking)' };
    case DisconnectReason.loggedOut:
      return { kind: 'stop', wipe: true, error: LOGGED_OUT_ERROR };
    case DisconnectReason.multideviceMismatch:
      return {
        kind: 'stop',
        wipe: true,
        error: 'WhatsApp dropped this linked device (multi-device mismatch): run `enclave pair whatsapp` or restart to scan a new QR',
      };
    case DisconnectReason.connectionReplaced:
      return {
        kind: 'stop',
        wipe: false,
        error: 'Another WhatsApp Web connection with this session replaced this one: stop the other Enclave instance (or copy of the session) and restart Enclave',
      };
    case DisconnectReason.forbidden:
      return {
        kind: 'stop',
        wipe: false,
        error: 'WhatsApp refused this account (403 forbidden; it may be banned or restricted): check WhatsApp on the phone, then restart Enclave',
      };
    case DisconnectReason.badSession:
      if (badSessionsInARow < BAD_SESSION_WIPE_AFTER) break;
      return {
        kind: 'reconnect',
        immediately: true,
        wipe: true,
        reason: 'the stored WhatsApp session was unusable and has been reset',
        error: 'The stored WhatsApp session was unusable and has been reset: scan the new QR or run `enclave pair whatsapp`',
      };
    case DisconnectReason.connectionClosed:
    case DisconnectReason.connectionLost: // also timedOut (same code)
    case DisconnectReason.unavailableService:
    default:
      break;
  }
  return { kind: 'reconnect', immediately: false, wipe: false, reason: `${message || 'connection closed'}${statusCode ? ` (${statusCode})` : ''}` };
}

/** Baileys closes with a Boom error whose output.statusCode is a DisconnectReason. */
export function statusCodeOf(err: unknown): number | undefined {
  const output = (err as { output?: { statusCode?: unknown } } | undefined)?.output;
  return typeof output?.statusCode === 'number' ? output.statusCode : undefined;
}

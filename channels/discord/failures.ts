import { DiscordjsError, DiscordjsErrorCodes, GatewayCloseCodes } from 'discord.js';

/**
 * Gateway close codes after which reconnecting cannot help: discord.js gives up on them, and so
 * does the adapter, with a sentence saying what to change.
 */
export function permanentCloseReason(code: number, tokenSecret: string): string | undefined {
  switch (code) {
    case GatewayCloseCodes.AuthenticationFailed:
      return badTokenReason(tokenSecret);
    case GatewayCloseCodes.DisallowedIntents:
      return 'Discord refused the Message Content intent: enable "Message Content Intent" under Bot > Privileged Gateway Intents in the Discord Developer Portal, then restart Enclave.';
    case GatewayCloseCodes.InvalidIntents:
    case GatewayCloseCodes.InvalidAPIVersion:
    case GatewayCloseCodes.InvalidShard:
    case GatewayCloseCodes.ShardingRequired:
      return `Discord closed the gateway for good (code ${code}, ${GatewayCloseCodes[code]}): update Enclave, or report this if it persists.`;
    default:
      return undefined;
  }
}

/** A login error that retrying cannot fix, as a sentence; undefined when it is worth another try. */
export function permanentLoginReason(err: unknown, tokenSecret: string): string | undefined {
  if (err instanceof DiscordjsError && err.code === DiscordjsErrorCodes.TokenInvalid) return badTokenReason(tokenSecret);
  return undefined;
}

export function badTokenReason(tokenSecret: string): string {
  return `Discord rejected the bot token: store a valid one with \`enclave secrets set ${tokenSecret}\` (Discord Developer Portal > your application > Bot > Reset Token), then restart Enclave.`;
}

export function missingTokenReason(tokenSecret: string): string {
  return `No Discord bot token: store it with \`enclave secrets set ${tokenSecret}\` (Discord Developer Portal > your application > Bot > Reset Token), then restart Enclave.`;
}

import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import type { ChatCommand } from '../channel.js';
import { boltLogger } from './bolt-logger.js';
import type { SlackConfig, SlackSecrets } from './config.js';
import { describeSlackError, slackErrorCode } from './slack-errors.js';

/** What the configured mode needs and the vault lacks, as a sentence with the fix; undefined when nothing. */
export function missingSecret(config: SlackConfig, secrets: SlackSecrets): string | undefined {
  const { mode, tokenSecret, appTokenSecret, signingSecretSecret } = config;
  const need = (name: string, what: string) => `Slack needs ${what}: store it in the vault as ${name}, then restart Enclave.`;
  if (!secrets.botToken) return need(tokenSecret, 'the bot token (xoxb-...)');
  if (mode === 'socket' && !secrets.appToken) return need(appTokenSecret, 'an app-level token (xapp-..., scope connections:write) for Socket Mode');
  if (mode === 'http' && !secrets.signingSecret) return need(signingSecretSecret, "the app's signing secret for HTTP mode");
  return undefined;
}

export function badTokenReason(config: SlackConfig, err: unknown, why: string): string {
  return `${why} (${slackErrorCode(err) ?? describeSlackError(err)}): store a valid bot token (xoxb-...) in the vault as ${config.tokenSecret} and restart Enclave.`;
}

/** `/ask <question>`, or `/enclave <command>` with the host's commands by name. */
export function usage(config: SlackConfig, commands: readonly ChatCommand[]): string {
  const names = commands.map((c) => c.name);
  return `Usage: ${config.askCommand} <question>, or ${config.hostCommand} <command>${names.length ? ` (${names.join(', ')})` : ''}`;
}

export function slackClientOptions(config: SlackConfig, log: Logger): webApi.WebClientOptions {
  return {
    slackApiUrl: config.apiUrl,
    logger: boltLogger(log),
    // Retries are the outbox's (sends) and the adapter's (reconnect backoff), so a 429 surfaces with its Retry-After.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 30_000,
  };
}

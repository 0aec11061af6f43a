import { z } from 'zod';

const slashCommand = z.string().regex(/^\/[a-z0-9_-]{1,31}$/, 'write a slash command such as /ask');

/** `channels.slack` in enclave.yaml. Tokens live in the vault; this names them. */
export const slackConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** socket: outbound WebSocket, no public URL needed. http: Slack POSTs to host:port + path. */
    mode: z.enum(['socket', 'http']).default('socket'),
    /** Vault name of the bot token (xoxb-...). */
    tokenSecret: z.string().min(1).default('SLACK_BOT_TOKEN'),
    /** Vault name of the app-level token (xapp-..., scope connections:write); socket mode only. */
    appTokenSecret: z.string().min(1).default('SLACK_APP_TOKEN'),
    /** Vault name of the app's signing secret; http mode only. */
    signingSecretSecret: z.string().min(1).default('SLACK_SIGNING_SECRET'),
    /** Web API base URL, with the trailing slash. GovSlack: https://slack-gov.com/api/ */
    apiUrl: z
      .url({ protocol: /^https?$/ })
      .default('https://slack.com/api/')
      .transform((url) => (url.endsWith('/') ? url : `${url}/`)),
    /** http mode: where the Events API / slash command receiver listens (0 = any free port). */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(3000),
    /** http mode: the Request URL path for events and slash commands alike. */
    path: z.string().regex(/^\/\S*$/).default('/slack/events'),
    /** `/ask <text>` asks the assistant. */
    askCommand: slashCommand.default('/ask'),
    /** `/enclave status` runs the host command /status (Slack reserves /status itself). */
    hostCommand: slashCommand.default('/enclave'),
    /** Answer a top-level channel message in a thread under it (thread replies are always answered in their thread). */
    replyInThread: z.boolean().default(false),
    /** Characters per message. Slack cuts text at 40,000 and advises staying under 4,000 per message. */
    maxMessageLength: z.number().int().min(500).max(39_000).default(8000),
  })
  .strict();

export type SlackConfig = z.infer<typeof slackConfigSchema>;

/** Token strings the host reads from its vault under the names in SlackConfig. */
export interface SlackSecrets {
  botToken: string;
  /** Needed in socket mode. */
  appToken?: string;
  /** Needed in http mode. */
  signingSecret?: string;
}

import { z } from 'zod';

const secretName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ., - and _ only');

export const telegramWebhookSchema = z
  .object({
    /** The public https URL Telegram posts updates to (it must reach host:port below, e.g. via a reverse proxy). */
    url: z.string().url('must be a full URL such as https://bot.example.com/telegram'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65_535).default(8443),
    /** Path the local server accepts updates on. */
    path: z.string().startsWith('/').default('/telegram'),
    /** Name of the vault secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -). */
    secretTokenSecret: secretName.default('TELEGRAM_WEBHOOK_SECRET'),
  })
  .strict();

export const telegramConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Name of the vault secret holding the token from @BotFather. */
    tokenSecret: secretName.default('TELEGRAM_BOT_TOKEN'),
    /** Bot API server; point it at a self-hosted telegram-bot-api server if you run one. */
    apiRoot: z
      .string()
      .url()
      .default('https://api.telegram.org')
      .transform((url) => url.replace(/\/+$/, '')),
    mode: z.enum(['polling', 'webhook']).default('polling'),
    /** Long-poll length of one getUpdates call. */
    pollTimeoutSeconds: z.number().int().min(1).max(50).default(30),
    /** How long one Bot API call (a send, or getUpdates beyond its long poll) may go unanswered before it counts as failed. */
    requestTimeoutSeconds: z.number().int().min(1).max(300).default(15),
    webhook: telegramWebhookSchema.optional(),
    /** Telegram allows about 1 message a second in one chat and 20 a minute in a group. */
    rateLimit: z
      .object({
        privateIntervalMs: z.number().int().min(1).default(1000),
        groupIntervalMs: z.number().int().min(1).default(3000),
        burst: z.number().int().min(1).default(3),
      })
      .strict()
      .default({ privateIntervalMs: 1000, groupIntervalMs: 3000, burst: 3 }),
    /** Backoff between reconnect attempts after a network failure (full jitter, doubling up to maxMs). */
    reconnect: z
      .object({
        baseMs: z.number().int().min(1).default(1000),
        maxMs: z.number().int().min(1).default(60_000),
      })
      .strict()
      .default({ baseMs: 1000, maxMs: 60_000 }),
    /** No longer read: the outbox alone retries sends. Still accepted so existing enclave.yaml files load. */
    sendAttempts: z.number().int().min(1).max(10).optional(),
  })
  .strict()
  .refine((c) => c.mode !== 'webhook' || c.webhook !== undefined, { message: 'mode: webhook needs a webhook section with at least url', path: ['webhook'] });

export type TelegramConfig = z.infer<typeof telegramConfigSchema>;

/** Secret values the host reads from its vault by the names in TelegramConfig. */
export interface TelegramSecrets {
  token: string;
  /** Required in webhook mode. */
  webhookSecret?: string;
}

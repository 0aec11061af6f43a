import { z } from 'zod';

export const DEFAULT_WHATSAPP_SOCKET_URL = 'wss://web.whatsapp.com/ws/chat';

export const whatsappConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** WhatsApp Web's WebSocket endpoint (Baileys' waWebSocketUrl); change it only for a proxy or a test server. */
    socketUrl: z
      .string()
      .url()
      .refine((u) => /^wss?:\/\//.test(u), 'must be a ws:// or wss:// URL')
      .default(DEFAULT_WHATSAPP_SOCKET_URL),
    /** WhatsApp bans accounts that send bursts: at most `burst` messages at once per chat, then one per intervalMs. */
    rateLimit: z
      .object({
        intervalMs: z.number().int().min(0).default(2000),
        burst: z.number().int().min(1).default(2),
      })
      .strict()
      .default({ intervalMs: 2000, burst: 2 }),
    /** Backoff between reconnect attempts after a dropped connection (full jitter, doubling up to maxMs). */
    reconnect: z
      .object({
        baseMs: z.number().int().min(1).default(2000),
        maxMs: z.number().int().min(1).default(120_000),
      })
      .strict()
      .default({ baseMs: 2000, maxMs: 120_000 }),
    /** No longer read: the outbox alone retries sends. Still accepted so existing enclave.yaml files load. */
    sendAttempts: z.number().int().min(1).max(10).optional(),
  })
  .strict();

export type WhatsAppConfig = z.infer<typeof whatsappConfigSchema>;

/** WhatsApp has no token: the linked-device session lives in the host's session folder instead. */
export type WhatsAppSecrets = Record<string, never>;

import { z } from 'zod';

/**
 * enclave.yaml `channels.<name>.streaming`: how an answer shows while it is written. `mode` unset
 * takes the platform's best (core/live-reply.ts preferredMode): edit on Telegram, Discord, Slack and
 * the local chat, blocks on WhatsApp.
 */
export const streamingSchema = z
  .object({
    mode: z.enum(['off', 'edit', 'blocks']).optional(),
    /** Edit mode: at most one update of the message per this many milliseconds. */
    editIntervalMs: z.number().int().min(200).max(60_000).default(1000),
    /** Blocks mode: a block is sent once it ends a paragraph and has at least this many characters. */
    minBlockChars: z.number().int().min(1).max(4000).default(400),
    /** Show tool steps ("searching the web…") until the answer starts. */
    progress: z.boolean().default(true),
  })
  .strict();

export type StreamingConfig = z.infer<typeof streamingSchema>;

export const DEFAULT_STREAMING: StreamingConfig = streamingSchema.parse({});

export const streamingSection = { streaming: streamingSchema.default(DEFAULT_STREAMING) };

import { z } from 'zod';

/** `channels.discord` in enclave.yaml. The bot token itself lives in the vault under `tokenSecret`. */
export const discordConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Name of the vault secret holding the bot token (Developer Portal > Bot > Reset Token). */
    tokenSecret: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ., - and _ only').default('DISCORD_BOT_TOKEN'),
    /** Discord's REST API root, without the version. Point it at a Discord REST proxy if you run one. */
    apiBase: z.string().url('must be a full URL such as https://discord.com/api').default('https://discord.com/api'),
    /** Register the slash commands (/ask and the host's chat commands) globally at every start. */
    registerCommands: z.boolean().default(true),
  })
  .strict();

export type DiscordConfig = z.infer<typeof discordConfigSchema>;

/** Read by the host from its encrypted vault, never from plaintext config. */
export interface DiscordSecrets {
  token: string;
}

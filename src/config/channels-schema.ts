import { z } from 'zod';
import { discordConfigSchema } from '../../channels/discord/config.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { channelAccessSchema } from './schema-access.js';

/** A platform's own keys plus who may DM the bot there (dmPolicy, allowFrom). */
function withAccess<S extends z.ZodObject>(schema: S) {
  const full = schema.extend(channelAccessSchema.shape).strict();
  return full.default(() => full.parse({}));
}

/** enclave.yaml `channels`: the local chat and the four platforms, each off until enabled. */
export const channelsSchema = z
  .object({
    local: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    telegram: withAccess(telegramConfigSchema),
    discord: withAccess(discordConfigSchema),
    slack: withAccess(slackConfigSchema),
    whatsapp: withAccess(whatsappConfigSchema),
  })
  .strict();

export type ChannelsConfig = z.infer<typeof channelsSchema>;

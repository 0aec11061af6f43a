import { z } from 'zod';
import { discordConfigSchema } from '../../channels/discord/config.js';
import { slackConfigSchema } from '../../channels/slack/config.js';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { channelAccessSchema } from './schema-access.js';

// Each platform's own keys plus who may DM the bot there (dmPolicy, allowFrom).
const telegram = telegramConfigSchema.extend(channelAccessSchema.shape).strict();
const discord = discordConfigSchema.extend(channelAccessSchema.shape).strict();
const slack = slackConfigSchema.extend(channelAccessSchema.shape).strict();
const whatsapp = whatsappConfigSchema.extend(channelAccessSchema.shape).strict();

/** enclave.yaml `channels`: the local chat and the four platforms, each off until enabled. */
export const channelsSchema = z
  .object({
    local: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    telegram: telegram.default(() => telegram.parse({})),
    discord: discord.default(() => discord.parse({})),
    slack: slack.default(() => slack.parse({})),
    whatsapp: whatsapp.default(() => whatsapp.parse({})),
  })
  .strict();

export type ChannelsConfig = z.infer<typeof channelsSchema>;

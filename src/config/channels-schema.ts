import { z } from 'zod';
import { PLATFORM_NAMES, PLATFORMS, type PlatformName } from '../../channels/platforms.js';
import { channelAccessSchema } from './schema-access.js';
import { DEFAULT_STREAMING, streamingSection } from './streaming-schema.js';

/** A platform's section: its own keys plus who may DM the bot there (dmPolicy, allowFrom), off until enabled. */
type Section<S extends z.ZodObject> = z.ZodDefault<z.ZodObject<S['shape'] & typeof channelAccessSchema.shape & typeof streamingSection, z.core.$strict>>;

function section<S extends z.ZodObject>(schema: S): Section<S> {
  const withAccess = schema.extend(channelAccessSchema.shape).extend(streamingSection).strict();
  // zod cannot name extend()'s result for a generic S; Section<S> is that result for each concrete platform.
  return withAccess.default(() => withAccess.parse({})) as unknown as Section<S>;
}

type PlatformSections = { [K in PlatformName]: Section<(typeof PLATFORMS)[K]['configSchema']> };

const platformSections = Object.fromEntries(PLATFORM_NAMES.map((name) => [name, section(PLATFORMS[name].configSchema)])) as PlatformSections;

/** enclave.yaml `channels`: the local chat and every platform in channels/platforms.ts. */
export const channelsSchema = z
  .object({
    local: z.object({ enabled: z.boolean().default(true), ...streamingSection }).strict().default({ enabled: true, streaming: DEFAULT_STREAMING }),
    ...platformSections,
  })
  .strict();

export type ChannelsConfig = z.infer<typeof channelsSchema>;

import { z } from 'zod';

export const DM_POLICIES = ['pairing', 'allowlist', 'open', 'disabled'] as const;

/** Who may DM the bot on one channel. */
export const channelAccessSchema = z.object({
  dmPolicy: z.enum(DM_POLICIES).default('pairing'),
  /** Senders admitted without pairing (under allowlist and pairing), as ids on this channel. */
  allowFrom: z.array(z.string().min(1)).default([]),
});

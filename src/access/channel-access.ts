import type { Config } from '../config/load.js';
import { DM_POLICIES } from '../config/schema.js';

export type DmPolicy = (typeof DM_POLICIES)[number];

export interface ChannelAccess {
  dmPolicy: DmPolicy;
  allowFrom: string[];
}

/** The DM policy and allowlist of a channel's section in enclave.yaml (pairing when unset). */
export function channelAccess(cfg: Config, channel: string): ChannelAccess {
  const sections = cfg.enclave.channels as Record<string, Partial<ChannelAccess> | undefined>;
  const section = sections[channel];
  return { dmPolicy: section?.dmPolicy ?? 'pairing', allowFrom: section?.allowFrom ?? [] };
}

import type { InboundMessage } from '../../channels/channel.js';
import type { Config } from '../config/load.js';

/** A person as the host knows them: <channel>:<sender id>. */
export function identityOf(msg: Pick<InboundMessage, 'channel' | 'senderId'>): string {
  return `${msg.channel}:${msg.senderId}`;
}

/** The local chat user runs the host, so they own it; other owners are listed in enclave.yaml. */
export function isOwner(cfg: Config, msg: Pick<InboundMessage, 'channel' | 'senderId'>): boolean {
  return msg.channel === 'local' || cfg.enclave.owners.includes(identityOf(msg));
}

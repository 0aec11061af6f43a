import type { Channel, ChannelContext, ChatCommand } from '../channels/channel.js';
import { eachPlatform } from '../channels/platforms.js';
import type { Dispatcher } from 'undici';
import type { QrOutput } from '../channels/whatsapp/qr.js';
import type { WhatsAppSocketFactory } from '../channels/whatsapp/socket.js';
import type { Clock } from './clock.js';
import type { Config } from './config/load.js';
import { channelStateStore } from './db/channel-state-store.js';
import type { Db } from './db/database.js';
import type { Logger } from './logger.js';

export interface ChannelFactoryDeps {
  config: Config;
  db: Db;
  log: Logger;
  clock?: Clock;
  /** The host's chat commands, for the platforms' command menus. */
  commands?: readonly ChatCommand[];
  /** A token by its vault name (vault first, then the environment); undefined when unset. */
  secret: (name: string) => string | undefined;
  /** Where WhatsApp QR codes are shown (the terminal by default). */
  onWhatsAppQr?: QrOutput;
  whatsappSocketFactory?: WhatsAppSocketFactory;
  whatsappMediaDispatcher?: () => Dispatcher;
}

/** Every platform channel enabled in enclave.yaml, with its tokens from the vault. */
export function platformChannels(deps: ChannelFactoryDeps): Channel[] {
  const { config, db, log } = deps;
  const ctx = (name: string): ChannelContext => ({
    log: log.child({ channel: name }),
    state: channelStateStore(db, name),
    assistantName: config.enclave.assistantName,
    commands: deps.commands,
    clock: deps.clock,
  });
  const channels = eachPlatform(config.enclave.channels, (platform, section) =>
    section.enabled
      ? platform.create(section, { ctx: ctx(platform.name), secret: deps.secret, dataDir: config.paths.dataDir, onWhatsAppQr: deps.onWhatsAppQr, whatsappSocketFactory: deps.whatsappSocketFactory, whatsappMediaDispatcher: deps.whatsappMediaDispatcher })
      : undefined,
  );
  return channels.filter((c): c is Channel => c !== undefined);
}

/** Vault names of the enabled channels' secrets, for log scrubbing. */
export function channelSecretNames(config: Config): string[] {
  return eachPlatform(config.enclave.channels, (platform, section) => (section.enabled ? platform.secretNames(section) : [])).flat();
}

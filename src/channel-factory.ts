import { join } from 'node:path';
import type { Channel, ChannelContext } from '../channels/channel.js';
import { DiscordChannel } from '../channels/discord/discord-channel.js';
import { SlackChannel } from '../channels/slack/slack-channel.js';
import { TelegramChannel } from '../channels/telegram/telegram-channel.js';
import type { QrOutput } from '../channels/whatsapp/qr.js';
import type { WhatsAppSocketFactory } from '../channels/whatsapp/socket.js';
import { WhatsAppChannel } from '../channels/whatsapp/whatsapp-channel.js';
import type { Config } from './config/load.js';
import { channelStateStore } from './db/channel-state-store.js';
import type { Db } from './db/database.js';
import type { Logger } from './logger.js';

export interface ChannelFactoryDeps {
  config: Config;
  db: Db;
  log: Logger;
  /** A token by its vault name (vault first, then the environment); '' when unset. */
  secret: (name: string) => string | undefined;
  /** Where WhatsApp QR codes are shown (the terminal by default). */
  onWhatsAppQr?: QrOutput;
  whatsappSocketFactory?: WhatsAppSocketFactory;
}

/** The WhatsApp linked-device session folder under ENCLAVE_HOME. */
export function whatsappAuthDir(config: Config): string {
  return join(config.paths.dataDir, 'whatsapp');
}

/** Every platform channel enabled in enclave.yaml, with its tokens from the vault. */
export function platformChannels(deps: ChannelFactoryDeps): Channel[] {
  const { config, db, log } = deps;
  const cfg = config.enclave.channels;
  const ctx = (name: string): ChannelContext => ({ log: log.child({ channel: name }), state: channelStateStore(db, name), assistantName: config.enclave.assistantName });
  const secret = (name: string) => deps.secret(name) ?? '';
  const channels: Channel[] = [];
  if (cfg.telegram.enabled) {
    channels.push(new TelegramChannel(cfg.telegram, { token: secret(cfg.telegram.tokenSecret), webhookSecret: cfg.telegram.webhook ? deps.secret(cfg.telegram.webhook.secretTokenSecret) : undefined }, ctx('telegram')));
  }
  if (cfg.discord.enabled) channels.push(new DiscordChannel(cfg.discord, { token: secret(cfg.discord.tokenSecret) }, ctx('discord')));
  if (cfg.slack.enabled) {
    channels.push(
      new SlackChannel(
        cfg.slack,
        { botToken: secret(cfg.slack.tokenSecret), appToken: deps.secret(cfg.slack.appTokenSecret), signingSecret: deps.secret(cfg.slack.signingSecretSecret) },
        ctx('slack'),
      ),
    );
  }
  if (cfg.whatsapp.enabled) channels.push(new WhatsAppChannel(cfg.whatsapp, {}, ctx('whatsapp'), { authDir: whatsappAuthDir(config), onQr: deps.onWhatsAppQr, makeSocket: deps.whatsappSocketFactory }));
  return channels;
}

/** Token values of enabled channels, for log scrubbing. */
export function channelSecretNames(config: Config): string[] {
  const c = config.enclave.channels;
  return [
    ...(c.telegram.enabled ? [c.telegram.tokenSecret, ...(c.telegram.webhook ? [c.telegram.webhook.secretTokenSecret] : [])] : []),
    ...(c.discord.enabled ? [c.discord.tokenSecret] : []),
    ...(c.slack.enabled ? [c.slack.tokenSecret, c.slack.appTokenSecret, c.slack.signingSecretSecret] : []),
  ];
}

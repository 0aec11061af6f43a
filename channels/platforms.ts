import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Channel, ChannelContext } from './channel.js';
import { discordConfigSchema } from './discord/config.js';
import { DiscordChannel } from './discord/discord-channel.js';
import { slackConfigSchema } from './slack/config.js';
import { SlackChannel } from './slack/slack-channel.js';
import { telegramConfigSchema } from './telegram/config.js';
import { TelegramChannel } from './telegram/telegram-channel.js';
import { whatsappConfigSchema } from './whatsapp/config.js';
import type { QrOutput } from './whatsapp/qr.js';
import type { WhatsAppSocketFactory } from './whatsapp/socket.js';
import { WhatsAppChannel } from './whatsapp/whatsapp-channel.js';

/** What the host hands a platform's factory besides the platform's own enclave.yaml section. */
export interface PlatformDeps {
  ctx: ChannelContext;
  /** A secret by its vault name (vault first, then the environment); undefined when unset. */
  secret: (name: string) => string | undefined;
  /** ENCLAVE_HOME/data: where a platform keeps its session files. */
  dataDir: string;
  /** Where WhatsApp QR codes are shown (the terminal by default). */
  onWhatsAppQr?: QrOutput;
  /** Makes WhatsApp's socket (tests drive the adapter through a fake); default Baileys. */
  whatsappSocketFactory?: WhatsAppSocketFactory;
  /** The connection pool for one WhatsApp media download (tests serve the media host from memory); default a fresh undici Agent. */
  whatsappMediaDispatcher?: () => Dispatcher;
}

export interface Platform<S extends z.ZodObject> {
  /** The adapter's name: its section under `channels:` in enclave.yaml and the <channel> of chat refs. */
  readonly name: string;
  /** The platform's own keys of that section (the host adds who may DM the bot). */
  readonly configSchema: S;
  /** Vault names of the secrets this section uses, so their values are scrubbed from logs and replies. */
  secretNames(config: z.output<S>): string[];
  create(config: z.output<S>, deps: PlatformDeps): Channel;
}

function platform<S extends z.ZodObject>(p: Platform<S>): Platform<S> {
  return p;
}

/** The WhatsApp linked-device session folder under ENCLAVE_HOME/data. */
export function whatsappAuthDir(dataDir: string): string {
  return join(dataDir, 'whatsapp');
}

/** Every chat platform Enclave speaks, in one place: adding one is adding a row here. */
export const PLATFORMS = {
  telegram: platform({
    name: 'telegram',
    configSchema: telegramConfigSchema,
    secretNames: (c) => [c.tokenSecret, ...(c.webhook ? [c.webhook.secretTokenSecret] : [])],
    create: (c, d) => new TelegramChannel(c, { token: d.secret(c.tokenSecret) ?? '', webhookSecret: c.webhook ? d.secret(c.webhook.secretTokenSecret) : undefined }, d.ctx),
  }),
  discord: platform({
    name: 'discord',
    configSchema: discordConfigSchema,
    secretNames: (c) => [c.tokenSecret],
    create: (c, d) => new DiscordChannel(c, { token: d.secret(c.tokenSecret) ?? '' }, d.ctx),
  }),
  slack: platform({
    name: 'slack',
    configSchema: slackConfigSchema,
    secretNames: (c) => [c.tokenSecret, c.appTokenSecret, c.signingSecretSecret],
    create: (c, d) =>
      new SlackChannel(c, { botToken: d.secret(c.tokenSecret) ?? '', appToken: d.secret(c.appTokenSecret), signingSecret: d.secret(c.signingSecretSecret) }, d.ctx),
  }),
  whatsapp: platform({
    name: 'whatsapp',
    configSchema: whatsappConfigSchema,
    // A linked-device session, not a token: nothing in the vault.
    secretNames: () => [],
    create: (c, d) => new WhatsAppChannel(c, {}, d.ctx, { authDir: whatsappAuthDir(d.dataDir), onQr: d.onWhatsAppQr, makeSocket: d.whatsappSocketFactory, mediaDispatcher: d.whatsappMediaDispatcher }),
  }),
};

export type PlatformName = keyof typeof PLATFORMS;

export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[];

/** A platform section of enclave.yaml as the factories read it: at least `enabled`. */
type Section = { enabled: boolean };

/** Runs fn with each platform and its section, typed loosely enough to iterate the table. */
export function eachPlatform<T>(sections: Record<PlatformName, Section>, fn: (p: Platform<z.ZodObject>, section: Section) => T): T[] {
  return PLATFORM_NAMES.map((name) => fn(PLATFORMS[name] as unknown as Platform<z.ZodObject>, sections[name]));
}

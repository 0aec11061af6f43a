import type { ResponseLike } from '@discordjs/rest';
import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import { Client, Events, GatewayIntentBits, Partials, Routes, type ChatInputCommandInteraction, type Interaction, type Message } from 'discord.js';
import { backoffDelay, untilStopped } from '../backoff.js';
import { sleep } from '../../src/time/sleep.js';
import {
  PermanentSendError,
  type Channel,
  type ChannelContext,
  type ChannelHealth,
  type DownloadLimits,
  type InboundAttachment,
  type OutboundFile,
  type InboundHandler,
  type InboundMessage,
  type InboundReceipt,
  type OutboundMessage,
} from '../channel.js';
import { ChannelStatus } from '../channel-status.js';
import { ChatRateLimiter, type Wait } from '../rate-limiter.js';
import { slashCommands } from './commands.js';
import type { DiscordConfig, DiscordSecrets } from './config.js';
import { closingNote, DeferredReplies } from './deferred-replies.js';
import { editDiscordMessage, startDiscordLiveReply } from './live-reply.js';
import { badTokenReason, missingTokenReason, permanentCloseReason, permanentLoginReason } from './failures.js';
import { CHANNEL_NAME, interactionToInbound, messageToInbound } from './inbound.js';
import { downloadDiscordFile, postDiscordFile } from './media.js';
import { classifySendError, isUnauthorized, postChannelMessage, rejectMessageRateLimits } from './outbound.js';

export interface DiscordChannelOptions {
  /** First wait before another login after one failed for a passing reason; doubles up to loginRetryMaxMs. */
  loginRetryBaseMs?: number;
  loginRetryMaxMs?: number;
  /** Per-chat pacing: `sendBurst` messages at once, then one every `sendIntervalMs` (Discord allows 5 per 5 s). */
  sendIntervalMs?: number;
  sendBurst?: number;
  /** Jitter source for login retry delays. */
  random?: () => number;
  /** How send pacing waits (tests move a clock instead). */
  wait?: Wait;
}

/**
 * Discord through discord.js: guild channels, threads and DMs over the gateway, slash commands
 * as interactions with deferred replies, replies over REST. discord.js resumes dropped gateway
 * sessions itself; this adapter retries failed logins in the background and gives up only on
 * what retrying cannot fix.
 */
export class DiscordChannel implements Channel {
  readonly name = CHANNEL_NAME;
  readonly maxMessageLength = 2000;
  private client: Client | undefined;
  private handler: InboundHandler | undefined;
  private readonly limiter: ChatRateLimiter;
  private readonly deferred: DeferredReplies;
  private readonly status: ChannelStatus;
  private stopping = new AbortController();
  /** Login retries after the first attempt failed for a passing reason. */
  private retrying: Promise<void> | undefined;
  /** A reason retrying cannot fix; set once, cleared only by a new connect(). */
  private fatal: string | undefined;

  constructor(
    private readonly config: DiscordConfig,
    private readonly secrets: DiscordSecrets,
    private readonly ctx: ChannelContext,
    private readonly opts: DiscordChannelOptions = {},
  ) {
    this.limiter = new ChatRateLimiter(opts.sendIntervalMs ?? 1000, opts.sendBurst ?? 5, { clock: ctx.clock, wait: opts.wait });
    this.status = new ChannelStatus(ctx.log, ctx.clock);
    this.deferred = new DeferredReplies(ctx.clock);
  }

  /** Resolves once connected, once failed for good, or after the first failed login (retries go on). */
  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
    this.stopping = new AbortController();
    this.fatal = undefined;
    this.status.starting();
    if (this.secrets.token.trim() === '') return this.failPermanently(missingTokenReason(this.config.tokenSecret));
    const signal = this.stopping.signal;
    if (!(await this.tryLogin(signal))) this.retrying = this.retryLogin(signal);
  }

  async disconnect(): Promise<void> {
    this.stopping.abort();
    this.handler = undefined;
    this.status.disconnected();
    await this.client?.destroy();
    await this.retrying;
    this.retrying = undefined;
  }

  /** Only for answers to channel messages: a slash command's answer goes through its deferred reply. */
  startLiveReply(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
    const client = this.client;
    if (!client?.token) throw new Error('Discord is not logged in yet');
    if (target.replyTo !== undefined && this.deferred.isPending(target.replyTo)) throw new Error('a slash command is answered through its deferred reply');
    return startDiscordLiveReply(client.rest, target, this.maxMessageLength, options);
  }

  async editMessage(chatId: string, messageId: string, text: string): Promise<void> {
    const client = this.client;
    if (!client?.token) throw new Error('Discord is not logged in yet; the message is retried later');
    await this.limiter.take(chatId);
    await editDiscordMessage(client.rest, chatId, messageId, text);
  }

  async send(msg: OutboundMessage): Promise<void> {
    if (this.fatal) throw new PermanentSendError(this.fatal);
    const client = this.client;
    if (!client?.token) throw new Error('Discord is not logged in yet; the message is retried later');
    await this.limiter.take(msg.chatId);
    try {
      if (msg.replyTo !== undefined && (await this.deferred.deliver(msg.replyTo, msg.text))) return;
      await postChannelMessage(client.rest, msg.chatId, msg.text, msg.replyTo);
    } catch (err) {
      if (isUnauthorized(err)) this.failPermanently(badTokenReason(this.config.tokenSecret));
      throw classifySendError(err, msg.chatId);
    }
  }

  async downloadAttachment(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
    return downloadDiscordFile(this.config.apiBase, attachment, limits);
  }

  async sendFile(file: OutboundFile): Promise<void> {
    if (this.fatal) throw new PermanentSendError(this.fatal);
    const client = this.client;
    if (!client?.token) throw new Error('Discord is not logged in yet; the file is sent later');
    await this.limiter.take(file.chatId);
    try {
      await postDiscordFile(client.rest, file);
    } catch (err) {
      if (isUnauthorized(err)) this.failPermanently(badTokenReason(this.config.tokenSecret));
      throw classifySendError(err, file.chatId);
    }
  }

  async setTyping(chatId: string, typing: boolean): Promise<void> {
    if (!typing || !this.client || this.fatal) return;
    await this.client.rest.post(Routes.channelTyping(chatId)).catch(() => undefined);
  }

  health(): ChannelHealth {
    return this.status.health();
  }

  private createClient(): Client {
    const client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.MessageContent],
      partials: [Partials.Channel],
      // Retries are ours (login backoff) and the outbox's (sends), so each one is counted and jittered.
      // Node's own fetch: @discordjs/rest's bundled undici hands its FormData (file uploads) to whatever
      // undici set the process-wide dispatcher first, and a newer one cannot read it (every upload failed).
      rest: { api: this.config.apiBase, retries: 0, rejectOnRateLimit: rejectMessageRateLimits, makeRequest: async (url, init) => (await fetch(url, init as RequestInit)) as unknown as ResponseLike },
    });
    const current = () => this.client === client && !this.stopping.signal.aborted && !this.fatal;
    client.on(Events.Raw, () => {
      if (current()) this.status.event();
    });
    client.on(Events.ShardReady, () => this.markUp(current()));
    client.on(Events.ShardResume, () => this.markUp(current()));
    client.on(Events.ShardReconnecting, () => {
      if (!current()) return;
      this.status.disconnected();
      this.status.reconnecting();
    });
    client.on(Events.ShardDisconnect, (event) => {
      if (!current()) return;
      this.status.disconnected();
      const reason = permanentCloseReason(event.code, this.config.tokenSecret);
      if (!reason) return;
      this.fatal = reason;
      if (client.isReady()) this.failPermanently(reason);
    });
    client.on(Events.ShardError, (err) => {
      if (current()) this.ctx.log.warn({ err: err.message }, 'Discord gateway error');
    });
    client.on(Events.MessageCreate, (message) => {
      if (current()) this.onMessage(client, message);
    });
    client.on(Events.InteractionCreate, (interaction) => {
      if (current()) void this.onInteraction(interaction);
    });
    return client;
  }

  /** One login; false when it failed for a passing reason and is worth another try. */
  private async tryLogin(signal: AbortSignal): Promise<boolean> {
    const client = this.createClient();
    this.client = client;
    try {
      await untilStopped(this.login(client), signal);
    } catch (err) {
      await client.destroy().catch(() => undefined);
      if (signal.aborted) return true;
      const reason = this.fatal ?? permanentLoginReason(err, this.config.tokenSecret);
      if (reason) {
        this.failPermanently(reason);
        return true;
      }
      this.status.down(`Discord login failed (${errorText(err)}); retrying`);
      return false;
    }
    this.ctx.log.info({ bot: client.user?.tag, reconnects: this.status.health().reconnects }, 'Discord connected');
    if (this.config.registerCommands) await this.registerCommands(client);
    return true;
  }

  private async retryLogin(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, this.opts.loginRetryBaseMs ?? 2000, this.opts.loginRetryMaxMs ?? 120_000, this.opts.random), signal);
      if (signal.aborted) return;
      this.status.reconnecting();
      if (await this.tryLogin(signal)) return;
    }
  }

  /** Resolves when the client is ready (logged in, guilds received); rejects when the login failed. */
  private async login(client: Client): Promise<void> {
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(this.secrets.token);
    await ready;
    this.markUp(this.client === client && !this.stopping.signal.aborted);
  }

  private markUp(current: boolean): void {
    if (!current || this.fatal) return;
    this.status.up();
  }

  private failPermanently(reason: string): void {
    this.fatal = reason;
    this.status.failed(reason);
    void this.client?.destroy().catch(() => undefined);
  }

  private async registerCommands(client: Client): Promise<void> {
    const appId = client.application?.id;
    if (!appId) return;
    try {
      await client.rest.put(Routes.applicationCommands(appId), { body: slashCommands(this.ctx.assistantName, this.ctx.commands ?? []) });
    } catch (err) {
      this.ctx.log.warn({ err: errorText(err) }, 'Discord slash commands could not be registered; messages and mentions still work');
    }
  }

  private onMessage(client: Client, message: Message): void {
    const botId = client.user?.id;
    if (!botId) return;
    const inbound = messageToInbound(message, botId);
    if (inbound) void this.handOn(inbound);
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    if (!interaction.isChatInputCommand()) return;
    const inbound = interactionToInbound(interaction);
    const deferred = await this.defer(interaction);
    const receipt = await this.handOn(inbound);
    if (!deferred) return;
    const outcome = receipt ? await receipt.settled.catch(() => 'failed' as const) : 'failed';
    await this.deferred.settle(interaction.id, closingNote(receipt?.status ?? 'ignored', outcome, inbound.chatId, this.ctx.assistantName));
  }

  private async defer(interaction: ChatInputCommandInteraction): Promise<boolean> {
    try {
      await this.deferred.defer(interaction);
      return true;
    } catch (err) {
      this.ctx.log.warn({ err: errorText(err), command: interaction.commandName }, 'Discord slash command could not be acknowledged; answering in the channel');
      return false;
    }
  }

  private async handOn(inbound: InboundMessage): Promise<InboundReceipt | undefined> {
    const handler = this.handler;
    if (!handler) return undefined;
    try {
      return await handler(inbound);
    } catch (err) {
      this.ctx.log.error({ err: errorText(err), chat: inbound.chatId }, 'Discord message could not be handed to the router');
      return undefined;
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

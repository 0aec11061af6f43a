import type { LiveReplyDisplay, LiveReplyOptions, LiveTarget } from '../channel.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, SocketModeReceiver, webApi, type AckFn, type RespondArguments } from '@slack/bolt';
import { backoffDelay, untilStopped } from '../backoff.js';
import { sleep } from '../../src/time/sleep.js';
import { PermanentSendError, type Channel, type ChannelContext, type ChannelHealth, type DownloadLimits, type InboundAttachment, type InboundHandler, type InboundMessage, type OutboundFile, type OutboundMessage } from '../channel.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { ChannelStatus } from '../channel-status.js';
import { ChatRateLimiter, type Wait } from '../rate-limiter.js';
import { boltLogger } from './bolt-logger.js';
import type { SlackConfig, SlackSecrets } from './config.js';
import { SlackDirectory } from './directory.js';
import {
  inThread,
  isDmChannel,
  isSpoken,
  normaliseCommand,
  normaliseMessage,
  slackMessageEventSchema,
  slashCommandSchema,
  type SlackBotIdentity,
} from './inbound.js';
import { downloadSlackFile } from './media.js';
import { answerThread, isSlackTs, messageRef } from './message-ref.js';
import { plainToSlack } from './mrkdwn.js';
import { startSlackLiveReply, updateSlackMessage } from './live-reply.js';
import { RecentIds } from './recent-ids.js';
import { classifySendError, describeSlackError, isAuthFailure, isTransient } from './slack-errors.js';
import { badTokenReason, missingSecret, slackClientOptions, usage } from './setup.js';
import { SocketSession } from './socket-session.js';

export interface SlackChannelOptions {
  /** First reconnect delay; each later one doubles (with jitter) up to reconnectMaxMs. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Outbound pacing per chat: a burst, then one message per interval (Slack allows ~1/s per channel). */
  sendIntervalMs?: number;
  sendBurst?: number;
  /** How send pacing waits (tests move a clock instead). */
  wait?: Wait;
  /** Jitter source for reconnect delays. */
  random?: () => number;
}

/** What one auth.test attempt found: the bot, a passing failure (retried), or the end (failed for good, or stopped). */
type Identified = SlackBotIdentity | 'retry' | 'stop';

/**
 * Slack through Bolt: Socket Mode (default) or the Events API over HTTP, slash commands
 * /ask and /enclave, answers with chat.postMessage (in the thread when asked in one).
 *
 * A mention arrives twice (app_mention and message); both are read the same way, from the
 * <@bot> in the text, so whichever arrives first is passed on and the other is dropped here
 * (and would be a duplicate in the host's store anyway). This works whichever of the two
 * events the Slack app subscribes to.
 */
export class SlackChannel implements Channel {
  readonly name = 'slack';
  readonly maxMessageLength: number;
  private handler: InboundHandler | undefined;
  private web: webApi.WebClient | undefined;
  private bot: SlackBotIdentity | undefined;
  private directory: SlackDirectory | undefined;
  private httpReceiver: HTTPReceiver | undefined;
  private address: AddressInfo | undefined;
  private session: SocketSession | undefined;
  private stopping = new AbortController();
  /** auth.test retries (and the start after them) when the first attempt failed for a passing reason. */
  private retrying: Promise<void> | undefined;
  /** Why the bot token or the secrets cannot work until a restart: every send fails for good. */
  private fatal: string | undefined;
  private readonly handed = new RecentIds(2000);
  private readonly botThreads = new RecentIds(2000);
  private readonly pacer: ChatRateLimiter;
  private readonly status: ChannelStatus;
  private readonly clock: Clock;

  constructor(
    private readonly config: SlackConfig,
    private readonly secrets: SlackSecrets,
    private readonly ctx: ChannelContext,
    private readonly opts: SlackChannelOptions = {},
  ) {
    this.maxMessageLength = config.maxMessageLength;
    this.status = new ChannelStatus(ctx.log, ctx.clock);
    this.clock = ctx.clock ?? systemClock;
    this.pacer = new ChatRateLimiter(opts.sendIntervalMs ?? 1000, opts.sendBurst ?? 3, { clock: ctx.clock, wait: opts.wait });
  }

  /** Resolves once connected, once failed for good, or after the first failed attempt (retries go on). */
  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
    this.stopping = new AbortController();
    this.fatal = undefined;
    const missing = missingSecret(this.config, this.secrets);
    if (missing) return this.failForGood(missing);

    const web = new webApi.WebClient(this.secrets.botToken, slackClientOptions(this.config, this.ctx.log));
    this.web = web;
    const signal = this.stopping.signal;
    const first = await this.identify(web, signal);
    if (first === 'retry') this.retrying = this.retryStart(web, signal);
    else if (first !== 'stop') await this.start(web, first, signal);
  }

  async disconnect(): Promise<void> {
    this.stopping.abort();
    this.handler = undefined;
    const session = this.session;
    const receiver = this.httpReceiver;
    this.session = undefined;
    this.httpReceiver = undefined;
    this.address = undefined;
    this.status.disconnected();
    await session?.stop();
    if (receiver) await receiver.stop().catch(() => undefined);
    await this.retrying;
    this.retrying = undefined;
  }

  startLiveReply(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
    const web = this.web;
    if (this.fatal || !web) throw new Error('the Slack channel is not connected');
    const thread = this.threadFor(target.chatId, target.replyTo, target.threadId);
    if (thread) this.botThreads.add(`${target.chatId}:${thread}`);
    return startSlackLiveReply(web, target, thread, this.maxMessageLength, options);
  }

  async editMessage(chatId: string, messageId: string, text: string): Promise<void> {
    if (this.fatal) throw new PermanentSendError(this.fatal);
    const web = this.web;
    if (!web) throw new Error('the Slack channel is not connected');
    await this.pacer.take(chatId);
    await updateSlackMessage(web, chatId, messageId, text);
  }

  private threadFor(chatId: string, replyTo: string | undefined, threadId: string | undefined): string | undefined {
    return threadId !== undefined && isSlackTs(threadId) ? threadId : answerThread(replyTo, this.config.replyInThread && !isDmChannel(chatId));
  }

  async send(msg: OutboundMessage): Promise<void> {
    if (this.fatal) throw new PermanentSendError(this.fatal);
    const web = this.web;
    if (!web) throw new Error('the Slack channel is not connected');
    const thread = this.threadFor(msg.chatId, msg.replyTo, msg.threadId);
    await this.pacer.take(msg.chatId);
    try {
      await web.chat.postMessage({ channel: msg.chatId, text: plainToSlack(msg.text), thread_ts: thread });
    } catch (err) {
      if (isAuthFailure(err)) {
        const reason = badTokenReason(this.config, err, 'Slack rejected the bot token');
        this.failForGood(reason);
        throw new PermanentSendError(reason, { cause: err });
      }
      throw classifySendError(err, msg.chatId);
    }
    if (thread) this.botThreads.add(`${msg.chatId}:${thread}`);
  }

  async downloadAttachment(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
    const web = this.web;
    if (!web) throw new Error('the Slack channel is not connected');
    return downloadSlackFile(web, this.config.apiUrl, this.secrets.botToken, attachment, limits);
  }

  /** files.uploadV2: files.getUploadURLExternal, the upload, files.completeUploadExternal sharing it in the chat. */
  async sendFile(file: OutboundFile): Promise<void> {
    if (this.fatal) throw new PermanentSendError(this.fatal);
    const web = this.web;
    if (!web) throw new Error('the Slack channel is not connected');
    const thread = file.threadId !== undefined && isSlackTs(file.threadId) ? file.threadId : answerThread(file.replyTo, this.config.replyInThread && !isDmChannel(file.chatId));
    await this.pacer.take(file.chatId);
    try {
      const upload = { file: file.data, filename: file.name, title: file.name, ...(file.caption && { initial_comment: plainToSlack(file.caption) }) };
      await web.filesUploadV2(thread !== undefined ? { ...upload, channel_id: file.chatId, thread_ts: thread } : { ...upload, channel_id: file.chatId });
    } catch (err) {
      if (isAuthFailure(err)) {
        const reason = badTokenReason(this.config, err, 'Slack rejected the bot token');
        this.failForGood(reason);
        throw new PermanentSendError(reason, { cause: err });
      }
      throw classifySendError(err, file.chatId);
    }
  }

  /** Bots get no typing indicator from the Web API (only the retired RTM API had one): nothing to do. */
  async setTyping(_chatId: string, _typing: boolean): Promise<void> {}

  health(): ChannelHealth {
    return this.status.health();
  }

  /** http mode: where the receiver listens for events and slash commands (undefined before it does). */
  receiverUrl(): string | undefined {
    if (!this.address) return undefined;
    const host = this.address.family === 'IPv6' ? `[${this.address.address}]` : this.address.address;
    return `http://${host}:${this.address.port}${this.config.path}`;
  }

  /** One auth.test: who the bot is, or a failure recorded in health. */
  private async identify(web: webApi.WebClient, signal: AbortSignal): Promise<Identified> {
    try {
      const res = await untilStopped(web.auth.test(), signal);
      if (res.user_id && res.bot_id) return { userId: res.user_id, botId: res.bot_id };
      this.failForGood(`The token in ${this.config.tokenSecret} is not a Slack bot token: store the app's Bot User OAuth Token (xoxb-...) there and restart Enclave.`);
      return 'stop';
    } catch (err) {
      if (signal.aborted) return 'stop';
      if (!isTransient(err)) {
        this.failForGood(badTokenReason(this.config, err, isAuthFailure(err) ? 'Slack rejected the bot token' : 'Slack refused auth.test'));
        return 'stop';
      }
      this.status.down(`cannot reach Slack at ${this.config.apiUrl} (${describeSlackError(err)}); retrying`);
      return 'retry';
    }
  }

  /** auth.test again with backoff until it answers, then starts receiving. */
  private async retryStart(web: webApi.WebClient, signal: AbortSignal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await sleep(this.reconnectDelay(attempt), signal);
      if (signal.aborted) return;
      this.status.reconnecting();
      const who = await this.identify(web, signal);
      if (who === 'stop') return;
      if (who !== 'retry') return this.start(web, who, signal);
    }
  }

  private async start(web: webApi.WebClient, bot: SlackBotIdentity, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.bot = bot;
    this.directory = new SlackDirectory(web, this.ctx.log);
    if (this.config.mode === 'http') await this.startHttp(bot);
    else await this.startSocket(bot);
  }

  private async startHttp(bot: SlackBotIdentity): Promise<void> {
    const receiver = new HTTPReceiver({
      signingSecret: this.secrets.signingSecret!,
      endpoints: this.config.path,
      logger: boltLogger(this.ctx.log),
    });
    this.listen(this.createApp(bot, receiver));
    const { host, port } = this.config;
    let server: Server;
    try {
      server = await receiver.start({ host, port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      this.status.failed(`Slack cannot listen on ${host}:${port} for events (${code}): free that port or set channels.slack.port, then restart Enclave.`);
      return;
    }
    if (this.stopping.signal.aborted) return receiver.stop();
    this.httpReceiver = receiver;
    this.address = server.address() as AddressInfo;
    this.status.up();
    this.ctx.log.info({ channel: 'slack', url: this.receiverUrl() }, 'Slack events receiver listening');
  }

  private async startSocket(bot: SlackBotIdentity): Promise<void> {
    const receiver = new SocketModeReceiver({
      appToken: this.secrets.appToken!,
      logger: boltLogger(this.ctx.log),
      autoReconnectEnabled: false,
      installerOptions: { clientOptions: slackClientOptions(this.config, this.ctx.log) },
    });
    this.listen(this.createApp(bot, receiver));
    const session = new SocketSession(
      receiver.client,
      {
        up: () => this.status.up('Slack Socket Mode connected'),
        down: (reason) => this.status.down(`Slack connection lost (${reason}); reconnecting`),
        retry: () => this.status.reconnecting(),
        fatal: (err) =>
          this.status.failed(
            `Slack rejected the app-level token (${describeSlackError(err)}): store a valid xapp-... token with the connections:write scope in the vault as ${this.config.appTokenSecret}, check Socket Mode is enabled for the app, and restart Enclave.`,
          ),
      },
      { baseMs: this.opts.reconnectBaseMs ?? 1000, maxMs: this.opts.reconnectMaxMs ?? 60_000, random: this.opts.random },
    );
    this.session = session;
    await session.run();
  }

  private createApp(bot: SlackBotIdentity, receiver: HTTPReceiver | SocketModeReceiver): App {
    return new App({
      token: this.secrets.botToken,
      botId: bot.botId,
      botUserId: bot.userId,
      receiver,
      logger: boltLogger(this.ctx.log),
      clientOptions: slackClientOptions(this.config, this.ctx.log),
      convoStore: false,
    });
  }

  private listen(app: App): void {
    app.event('message', async ({ event }) => this.onMessageEvent(event));
    app.event('app_mention', async ({ event }) => this.onMessageEvent(event));
    for (const name of [this.config.askCommand, this.config.hostCommand]) {
      app.command(name, async ({ command, ack }) => this.onCommand(command, ack));
    }
    app.error(async (err) => {
      this.ctx.log.warn({ channel: 'slack', err: err.message }, 'Slack event handling failed');
    });
  }

  private async onMessageEvent(raw: unknown): Promise<void> {
    const parsed = slackMessageEventSchema.safeParse(raw);
    const bot = this.bot;
    if (!parsed.success || !bot || !isSpoken(parsed.data)) return;
    const ev = parsed.data;
    this.status.event();
    const key = `${ev.channel}:${messageRef(ev.ts, ev.thread_ts)}`;
    if (this.handed.has(key)) return;
    this.handed.add(key);

    // Bots are never answered, so their names are not worth an API call.
    const person = ev.bot_id === undefined ? ev.user : undefined;
    const directory = this.directory;
    const [senderName, chatTitle] = await Promise.all([
      person && directory ? directory.userName(person) : (ev.user ?? ev.bot_id ?? 'bot'),
      person && directory && !isDmChannel(ev.channel) ? directory.chatTitle(ev.channel) : undefined,
    ]);
    const botInThread = inThread(ev) && this.botThreads.has(`${ev.channel}:${ev.thread_ts}`);
    await this.deliver(normaliseMessage(ev, bot, { senderName, chatTitle, botInThread, replyInThread: this.config.replyInThread }), key);
  }

  private async onCommand(raw: unknown, ack: AckFn<string | RespondArguments>): Promise<void> {
    const parsed = slashCommandSchema.safeParse(raw);
    const msg = parsed.success && this.bot ? normaliseCommand(parsed.data, this.config, this.bot, this.clock()) : undefined;
    if (!msg) {
      await ack({ response_type: 'ephemeral', text: usage(this.config, this.ctx.commands ?? []) });
      return;
    }
    await ack();
    this.status.event();
    await this.deliver(msg, `${msg.chatId}:${msg.platformId}`);
  }

  private async deliver(msg: InboundMessage, key: string): Promise<void> {
    const handler = this.handler;
    if (!handler) return;
    try {
      await handler(msg);
    } catch (err) {
      this.handed.delete(key);
      this.ctx.log.error({ channel: 'slack', chat: msg.chatId, err }, 'the host could not take a Slack message');
    }
  }

  private reconnectDelay(attempt: number): number {
    return backoffDelay(attempt, this.opts.reconnectBaseMs ?? 1000, this.opts.reconnectMaxMs ?? 60_000, this.opts.random);
  }

  /** The bot token or a needed secret is unusable: nothing works until a restart with a good one. */
  private failForGood(reason: string): void {
    this.fatal = reason;
    this.status.failed(reason);
  }
}

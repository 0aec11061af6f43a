import type { Server } from 'node:http';
import { Bot } from 'grammy';
import type { BotCommand, Update } from 'grammy/types';
import { backoffDelay } from '../backoff.js';
import { sleep } from '../../src/time/sleep.js';
import { PermanentSendError, type Channel, type ChannelContext, type ChannelHealth, type DownloadLimits, type InboundAttachment, type InboundHandler, type LiveReplyDisplay, type LiveReplyOptions, type LiveTarget, type OutboundFile, type OutboundMessage } from '../channel.js';
import { editTelegramMessage, startTelegramLiveReply } from './live-reply.js';
import { ChannelStatus } from '../channel-status.js';
import type { Wait } from '../rate-limiter.js';
import { apiSignal } from './api-signal.js';
import type { TelegramConfig, TelegramSecrets } from './config.js';
import { describe, isBadToken, isConflict, retryAfterMs } from './errors.js';
import { downloadTelegramFile, sendTelegramFile } from './media.js';
import { normaliseMessage, type BotIdentity } from './normalise.js';
import { TelegramSender } from './sender.js';
import { closeServer, startWebhookServer } from './webhook-server.js';

/** ctx.state key of the next update id to ask for; everything below it was handed to the host. */
export const OFFSET_KEY = 'updateOffset';

const ALLOWED_UPDATES = ['message'] as const;

/** Telegram's rule for command names in the menu. */
const TELEGRAM_COMMAND_NAME = /^[a-z0-9_]{1,32}$/;

export interface TelegramChannelOptions {
  /** Jitter source for reconnect delays. */
  random?: () => number;
  /** How send pacing waits (tests move a clock instead). */
  wait?: Wait;
  /** A signal that aborts after ms: bounds each set-up call (default AbortSignal.timeout; tests fire it themselves). */
  timeoutSignal?: (ms: number) => AbortSignal;
}

/**
 * Telegram through grammy's Bot API client: long polling (or a webhook), one update at a time,
 * the offset saved after each update is handed to the host so a restart never repeats one.
 */
export class TelegramChannel implements Channel {
  readonly name = 'telegram';
  readonly maxMessageLength = 4096;
  private readonly bot: Bot | undefined;
  private readonly sender: TelegramSender | undefined;
  private me: BotIdentity | undefined;
  private handler: InboundHandler | undefined;
  private stopper = new AbortController();
  private running: Promise<void> | undefined;
  private webhookServer: Server | undefined;
  private webhookChain: Promise<void> = Promise.resolve();
  private readonly status: ChannelStatus;

  constructor(
    private readonly config: TelegramConfig,
    private readonly secrets: TelegramSecrets,
    private readonly ctx: ChannelContext,
    private readonly opts: TelegramChannelOptions = {},
  ) {
    this.status = new ChannelStatus(ctx.log, ctx.clock);
    if (!secrets.token) return;
    // grammy waits 500 s by default; getUpdates long-polls, so it gets its poll time on top.
    const timeoutSeconds = config.pollTimeoutSeconds + config.requestTimeoutSeconds;
    this.bot = new Bot(secrets.token, { client: { apiRoot: config.apiRoot, timeoutSeconds } });
    this.sender = new TelegramSender(this.bot.api, config, ctx.log, { clock: ctx.clock, wait: opts.wait });
  }

  /** Resolves once connected, once failed for good, or after the first failed attempt (retries go on). */
  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
    this.stopper = new AbortController();
    let ready!: () => void;
    const readyOnce = new Promise<void>((resolve) => (ready = resolve));
    this.running = this.run(this.stopper.signal, ready)
      .catch((err: unknown) => this.fail(`Telegram channel stopped: ${describe(err)}`))
      .finally(ready);
    await readyOnce;
  }

  async disconnect(): Promise<void> {
    this.stopper.abort();
    await this.running;
    if (this.webhookServer) await closeServer(this.webhookServer);
    this.webhookServer = undefined;
    this.status.disconnected();
  }

  async send(msg: OutboundMessage): Promise<void> {
    if (!this.sender) throw new PermanentSendError(`Telegram has no bot token: store it in the vault as ${this.config.tokenSecret} and restart`);
    await this.sender.send(msg);
  }

  async downloadAttachment(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
    if (!this.bot) throw new Error(`Telegram has no bot token: store it in the vault as ${this.config.tokenSecret} and restart`);
    return downloadTelegramFile(this.bot.api, this.config.apiRoot, this.secrets.token, attachment, limits);
  }

  async sendFile(file: OutboundFile): Promise<void> {
    if (!this.bot) throw new PermanentSendError(`Telegram has no bot token: store it in the vault as ${this.config.tokenSecret} and restart`);
    // An upload gets longer than one API call: four times channels.telegram.requestTimeoutSeconds.
    await sendTelegramFile(this.bot.api, file, AbortSignal.timeout(this.config.requestTimeoutSeconds * 4000));
  }

  startLiveReply(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
    if (!this.bot) throw new PermanentSendError(`Telegram has no bot token: store it in the vault as ${this.config.tokenSecret} and restart`);
    return startTelegramLiveReply(this.bot.api, target, options);
  }

  async editMessage(chatId: string, messageId: string, text: string): Promise<void> {
    if (!this.bot) throw new PermanentSendError(`Telegram has no bot token: store it in the vault as ${this.config.tokenSecret} and restart`);
    await editTelegramMessage(this.bot.api, chatId, messageId, text, this.ctx.log);
  }

  async setTyping(chatId: string, typing: boolean, threadId?: string): Promise<void> {
    if (typing) await this.sender?.typing(chatId, threadId);
  }

  health(): ChannelHealth {
    return this.status.health();
  }

  private async run(signal: AbortSignal, ready: () => void): Promise<void> {
    const bot = this.bot;
    if (!bot) return this.fail(`Telegram has no bot token: store the token from @BotFather in the vault as ${this.config.tokenSecret} and restart`);
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.setUp(bot, signal);
        break;
      } catch (err) {
        if (signal.aborted) return;
        if (isBadToken(err)) return this.fail(this.badTokenReason(err));
        if (err instanceof WebhookListenError) return this.fail(err.message);
        this.down(err);
        ready();
        this.status.reconnecting();
        await sleep(this.retryDelay(err, attempt), signal);
      }
    }
    ready();
    if (this.config.mode === 'polling') await this.poll(bot, signal);
  }

  /** One set-up call, unanswered for requestTimeoutSeconds counts as failed (a hanging API does not hold the channel for grammy's long-poll timeout). */
  private async bounded<T>(method: string, signal: AbortSignal, call: (s: AbortSignal) => Promise<T>): Promise<T> {
    const seconds = this.config.requestTimeoutSeconds;
    const timeout = (this.opts.timeoutSignal ?? AbortSignal.timeout)(seconds * 1000);
    try {
      return await call(AbortSignal.any([signal, timeout]));
    } catch (err) {
      if (timeout.aborted && !signal.aborted) throw new Error(`Telegram did not answer ${method} within ${seconds} s (channels.telegram.requestTimeoutSeconds)`, { cause: err });
      throw err;
    }
  }

  private async setUp(bot: Bot, signal: AbortSignal): Promise<void> {
    const me = await this.bounded('getMe', signal, (s) => bot.api.getMe(apiSignal(s)));
    this.me = { id: me.id, username: me.username };
    if (this.config.mode === 'webhook') await this.startWebhook(bot, signal);
    else await this.bounded('deleteWebhook', signal, (s) => bot.api.deleteWebhook({}, apiSignal(s)));
    await this.bounded('setMyCommands', signal, (s) => bot.api.setMyCommands(this.commands(), {}, apiSignal(s))).catch((err: unknown) => {
      if (isBadToken(err)) throw err;
      this.ctx.log.warn({ channel: 'telegram', reason: describe(err) }, 'could not register the Telegram command menu');
    });
    this.up(`Telegram connected as @${me.username}`);
  }

  private async poll(bot: Bot, signal: AbortSignal): Promise<void> {
    let offset = this.savedOffset();
    for (let failures = 0; !signal.aborted; ) {
      let updates: Update[];
      try {
        updates = await bot.api.getUpdates({ offset, timeout: this.config.pollTimeoutSeconds, allowed_updates: ALLOWED_UPDATES }, apiSignal(signal));
      } catch (err) {
        if (signal.aborted) return;
        if (isBadToken(err)) return this.fail(this.badTokenReason(err));
        this.down(err);
        this.status.reconnecting();
        await sleep(this.retryDelay(err, failures++), signal);
        continue;
      }
      if (failures > 0) this.up('Telegram polling resumed');
      failures = 0;
      for (const update of updates) {
        if (signal.aborted) return;
        if (update.update_id < offset) continue;
        await this.dispatch(update);
        offset = update.update_id + 1;
        this.ctx.state.set(OFFSET_KEY, String(offset));
      }
    }
  }

  private async startWebhook(bot: Bot, signal: AbortSignal): Promise<void> {
    const hook = this.config.webhook;
    if (!hook) throw new WebhookListenError('Telegram webhook mode needs channels.telegram.webhook.url in enclave.yaml');
    const secretToken = this.secrets.webhookSecret;
    if (!secretToken) throw new WebhookListenError(`Telegram webhook mode needs a secret token: store one (1-256 of A-Z a-z 0-9 _ -) in the vault as ${hook.secretTokenSecret}`);
    if (!this.webhookServer) {
      const onUpdate = (update: Update) => (this.webhookChain = this.webhookChain.catch(() => undefined).then(() => this.takeWebhookUpdate(update)));
      try {
        this.webhookServer = await startWebhookServer({ host: hook.host, port: hook.port, path: hook.path, secretToken, onUpdate });
      } catch (err) {
        throw new WebhookListenError(`Telegram webhook server cannot listen on ${hook.host}:${hook.port} (${describe(err)}): free the port or change channels.telegram.webhook.port`, { cause: err });
      }
    }
    await this.bounded('setWebhook', signal, (s) => bot.api.setWebhook(hook.url, { secret_token: secretToken, allowed_updates: ALLOWED_UPDATES }, apiSignal(s)));
  }

  private async takeWebhookUpdate(update: Update): Promise<void> {
    if (update.update_id < this.savedOffset()) return;
    await this.dispatch(update);
    this.ctx.state.set(OFFSET_KEY, String(update.update_id + 1));
  }

  private async dispatch(update: Update): Promise<void> {
    this.status.event();
    const message = update.message;
    const msg = message && this.me ? normaliseMessage(message, this.me) : undefined;
    if (!msg || !this.handler) return;
    try {
      await this.handler(msg);
    } catch (err) {
      this.ctx.log.error({ channel: 'telegram', update: update.update_id, err }, 'the host could not take a Telegram message; it is skipped');
    }
  }

  private savedOffset(): number {
    const saved = Number(this.ctx.state.get(OFFSET_KEY));
    return Number.isSafeInteger(saved) && saved > 0 ? saved : 0;
  }

  /** /ask (the adapter's own way to address the bot), then the host's commands Telegram can list. */
  private commands(): BotCommand[] {
    const host = (this.ctx.commands ?? []).filter((c) => TELEGRAM_COMMAND_NAME.test(c.name) && c.name !== 'ask' && c.description !== '');
    return [{ command: 'ask', description: `Ask ${this.ctx.assistantName} something` }, ...host.map((c) => ({ command: c.name, description: c.description.slice(0, 256) }))];
  }

  private retryDelay(err: unknown, attempt: number): number {
    const { baseMs, maxMs } = this.config.reconnect;
    return retryAfterMs(err) ?? backoffDelay(attempt, baseMs, maxMs, this.opts.random);
  }

  private up(what: string): void {
    this.status.up(what);
  }

  private down(err: unknown): void {
    if (isConflict(err)) this.status.down('another program is taking updates for this Telegram bot (409 Conflict): stop the other bot instance or remove its webhook; retrying', 'error');
    else this.status.down(`${describe(err)}; retrying`);
  }

  private fail(reason: string): void {
    this.status.failed(reason);
  }

  private badTokenReason(err: unknown): string {
    return `Telegram rejected the bot token (${describe(err)}): store the token from @BotFather in the vault as ${this.config.tokenSecret} and restart; the other channels keep running`;
  }
}

/** A webhook-mode setup problem only the user can fix. */
class WebhookListenError extends Error {}

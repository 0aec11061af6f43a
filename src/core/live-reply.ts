import type { Channel, LiveReplyDisplay, LiveShown, LiveTarget, LiveTimers, StreamingMode } from '../../channels/channel.js';
import type { LiveEvent } from '../../container/agent/protocol.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { JoinedTextScrubber, scrubbableSecrets, scrubText } from '../proxy/text-scrubber.js';
import type { StreamingConfig } from '../config/streaming-schema.js';
import type { OutboxLive } from './live-delivery.js';
import { liveReplyEvents } from './live-reply-events.js';
import { LIVE_RESTART_NOTICE, LIVE_STOPPED_NOTICE } from './replies.js';

/** The longest answer a live reply shows; the final reply is capped the same (MAX_REPLY_CHARS). */
const MAX_LIVE_CHARS = 16_000;
/** Restarts (a failover, a discarded draft) one turn may show; past it the chat sees only the final reply, so a hostile runner cannot post message after message. */
const MAX_LIVE_RESTARTS = 3;

/** A platform's best way to show an answer being written, when its config does not say. */
export function preferredMode(channel: string): Exclude<StreamingMode, 'off'> {
  return channel === 'whatsapp' ? 'blocks' : 'edit';
}

export interface LiveReplyDeps {
  db: Db;
  clock: Clock;
  timers: LiveTimers;
  log: Logger;
  /** Every secret value the host holds: none reaches the chat, however the pieces split it. */
  secrets: () => readonly string[];
}

export interface LiveTurn {
  turnId: string;
  group: string;
  channelName: string;
  target: LiveTarget;
}

/**
 * One turn's answer shown in its chat while the agent writes it: the runner's events, scrubbed,
 * go to the adapter's display; each message it posts is recorded (live_messages) until the turn
 * is finished, so a restart can mark it interrupted. finish() says what the outbox must do with
 * the messages so the chat ends with exactly the stored reply.
 */
export class LiveReply {
  private text = '';
  private restarts = 0;
  /** What a frozen display left in the chat, for finish(). */
  private frozen: Promise<LiveShown> | undefined;
  private scrubber: JoinedTextScrubber;
  private readonly secrets: string[];

  private constructor(
    private readonly deps: LiveReplyDeps,
    private readonly turn: LiveTurn,
    private readonly mode: Exclude<StreamingMode, 'off'>,
    private display: LiveReplyDisplay | undefined,
  ) {
    this.secrets = scrubbableSecrets(deps.secrets());
    this.scrubber = new JoinedTextScrubber(this.secrets);
  }

  /** undefined when the channel cannot show live replies or its config turns them off. */
  static start(deps: LiveReplyDeps, turn: LiveTurn, channel: Channel | undefined, config: StreamingConfig | undefined): LiveReply | undefined {
    if (!channel?.startLiveReply || !config) return undefined;
    const mode = config.mode ?? preferredMode(channel.name);
    if (mode === 'off') return undefined;
    const live = new LiveReply(deps, turn, mode, undefined);
    const started = deps.clock();
    try {
      live.display = live.startDisplay(channel, mode, config, started);
    } catch (err) {
      deps.log.warn({ channel: channel.name, err: (err as Error).message }, 'cannot show this answer live; it arrives when the turn is over');
      return undefined;
    }
    return live;
  }

  private startDisplay(channel: Channel, mode: Exclude<StreamingMode, 'off'>, config: StreamingConfig, started: number): LiveReplyDisplay {
    const { deps, turn } = this;
    return channel.startLiveReply!(turn.target, {
      mode,
      editIntervalMs: config.editIntervalMs,
      minBlockChars: config.minBlockChars,
      progress: config.progress,
      clock: deps.clock,
      timers: deps.timers,
      log: deps.log.child({ channel: channel.name, chat: turn.target.chatId, turn: turn.turnId }),
      onPosted: (messageId) => this.record(messageId),
      onVisible: () => liveReplyEvents.emit('first-text', { turnId: turn.turnId, group: turn.group, channel: channel.name, chatId: turn.target.chatId, startedAt: started, at: deps.clock() }),
    });
  }

  feed(events: readonly LiveEvent[]): void {
    const display = this.display;
    if (!display) return;
    for (const event of events) {
      if (event.kind === 'text') {
        if (this.text.length >= MAX_LIVE_CHARS) continue;
        this.text = (this.text + this.scrubber.push(event.text)).slice(0, MAX_LIVE_CHARS);
        display.show(this.text);
      } else if (event.kind === 'progress') {
        display.progress(scrubText(event.text.slice(0, 200), this.secrets));
      } else {
        if (++this.restarts > MAX_LIVE_RESTARTS) return void this.freeze();
        this.text = '';
        this.scrubber = new JoinedTextScrubber(this.secrets);
        if (event.kind === 'discard') display.show('');
        else void display.restart(LIVE_RESTART_NOTICE);
      }
    }
  }

  /** Shows nothing more until the final reply: what is on screen stays and is finished by the outbox. */
  private freeze(): void {
    this.deps.log.warn({ turn: this.turn.turnId }, 'the agent restarted its answer too often; the chat gets the final reply only');
    const display = this.display;
    this.display = undefined;
    if (display) this.frozen = display.close();
  }

  /**
   * Stops the display; returns the text the outbox must store (the reply, or for a turn that ends
   * without one what was shown marked as stopped) and how its delivery finishes the live messages.
   */
  async finish(reply: string): Promise<{ text: string; live: OutboxLive | undefined }> {
    const shown = await this.close();
    if (!shown || shown.messageIds.length === 0) return { text: reply, live: undefined };
    const text = reply !== '' ? reply : `${this.text}\n\n${LIVE_STOPPED_NOTICE}`.trimStart();
    if (shown.mode === 'edit') return { text, live: { edit: shown.messageIds } };
    // Blocks already sent are not sent again when the stored reply starts with them.
    const sent = this.text.slice(0, shown.sentChars);
    const scrubbed = scrubText(text, this.secrets);
    if (shown.sentChars > 0 && scrubbed.startsWith(sent)) return { text: scrubbed, live: { skip: shown.sentChars, ...(shown.reopen && { reopen: shown.reopen }) } };
    return { text, live: undefined };
  }

  /** Removes the turn's crash-recovery rows; call inside the transaction that stores the reply. */
  forget(): void {
    this.deps.db.prepare('DELETE FROM live_messages WHERE turn_id = ?').run(this.turn.turnId);
  }

  /** Stops showing (Enclave is shutting down): the recorded messages are marked interrupted at the next start. */
  async stop(): Promise<void> {
    await this.close();
  }

  private async close(): Promise<LiveShown | undefined> {
    const display = this.display;
    this.display = undefined;
    return display ? display.close() : this.frozen;
  }

  private record(messageId: string): void {
    const { turnId, group, channelName, target } = this.turn;
    try {
      this.deps.db
        .prepare('INSERT INTO live_messages (turn_id, group_name, channel, chat_id, thread_id, mode, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(turnId, group, channelName, target.chatId, target.threadId ?? null, this.mode, messageId, this.deps.clock());
    } catch (err) {
      this.deps.log.warn({ turn: turnId, err: (err as Error).message }, 'could not record a live message; a crash now would leave it unfinished');
    }
  }
}

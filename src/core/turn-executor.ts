import { randomUUID } from 'node:crypto';
import type { Channel, LiveTimers } from '../../channels/channel.js';
import { realTimers } from '../../channels/live/live-port.js';
import { LiveReply } from './live-reply.js';
import type { StreamingConfig } from '../config/streaming-schema.js';
import type { ChatTurnMessage, TurnRequest } from '../../container/agent/protocol.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { groupHasChat } from '../config/load.js';
import type { Clock } from '../clock.js';
import type { ActiveTurn, ActiveTurns } from './active-turns.js';
import { TurnAbortedError, TurnFailedError, type ContainerManager } from '../container/container-manager.js';
import type { Db } from '../db/database.js';
import { DISK_FULL_REFUSAL, isDiskFull } from '../db/storage-health.js';
import type { Logger } from '../logger.js';
import type { GroupSettings } from './group-settings.js';
import type { History } from '../db/history.js';
import type { MessageStore, StoredMessage } from './message-store.js';
import type { Outbox } from './outbox.js';
import { sleep } from '../time/sleep.js';
import { agentErrorReply, resumedReply, turnFailedReply } from './replies.js';
import type { SettleWaiters } from './settle-waiters.js';
import type { IngestedMedia } from '../media/ingest.js';
import { prepareTurnMedia, type TurnMediaDeps } from '../media/turn-media.js';

export interface TurnExecutorDeps {
  config: () => Config;
  db: Db;
  store: MessageStore;
  history: History;
  outbox: Outbox;
  waiters: SettleWaiters;
  channels: ReadonlyMap<string, Channel>;
  containers: ContainerManager;
  settings: GroupSettings;
  turns: ActiveTurns;
  log: Logger;
  clock: Clock;
  /** Photos, voice notes and documents of the turn's messages; unset: files are named but not fetched. */
  media?: TurnMediaDeps;
  /** Why no model of the group can answer on this model (no provider, key or price), for the chat; undefined when one can. */
  modelUnready: (group: string, model: string) => string | undefined;
  /** After a failed turn: what the network says about the turn's models (unreachable, not served), for the chat. */
  diagnose?: (group: string, model: string) => Promise<string | undefined>;
  /** Secret values never shown in a live reply. */
  secrets?: () => readonly string[];
  liveTimers?: LiveTimers;
}

/** How long a finished turn waits for its reply to be delivered before freeing its slot. */
const DELIVERY_WAIT_MS = 5_000;

/** Takes a group's waiting messages, runs them as one turn in its container, and records the answer. */
export class TurnExecutor {
  private stopping = false;

  /** Turns cut off by a shutdown stay unanswered in the database and run again at the next start. */
  shutdown(): void {
    this.stopping = true;
  }

  /** Messages up to this id were stored by an earlier run: their answers say which question they answer. */
  private readonly lastIdOfEarlierRuns: number;

  constructor(private readonly deps: TurnExecutorDeps) {
    const row = deps.db.prepare('SELECT MAX(id) AS id FROM messages').get() as { id: number | null } | undefined;
    this.lastIdOfEarlierRuns = row?.id ?? 0;
  }

  /**
   * The group's next turn, for the group queue; true when more messages wait (a group mapped to
   * several chats answers one chat per turn, so the others go next).
   */
  async runNext(groupName: string): Promise<boolean> {
    try {
      await this.run(groupName);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      await this.refuseForFullDisk(groupName);
      return false;
    }
    return this.deps.store.hasQueued(groupName);
  }

  /**
   * A turn met a full disk wherever it was (claiming, recording, finishing): each waiting chat is
   * told once and every sender stops waiting. The messages stay stored and run once space is back.
   */
  private async refuseForFullDisk(groupName: string): Promise<void> {
    const pending = this.deps.store.pending(groupName);
    const chats = new Map(pending.map((m) => [`${m.channel}\0${m.chatId}\0${m.threadId ?? ''}`, m]));
    for (const m of chats.values()) {
      await this.deps.channels.get(m.channel)?.send({ chatId: m.chatId, threadId: m.threadId, text: DISK_FULL_REFUSAL }).catch(() => undefined);
    }
    this.deps.waiters.settle(pending.map((m) => m.id), 'failed');
  }

  private async run(groupName: string): Promise<void> {
    const { store, log, clock } = this.deps;
    const cfg = this.deps.config();
    const group = cfg.groups.get(groupName);
    const messages = store.claimQueued(groupName);
    if (messages.length === 0) return;
    const ids = messages.map((m) => m.id);
    const last = messages[messages.length - 1]!;
    const turnId = randomUUID();
    const target: ActiveTurn = { group: groupName, channel: last.channel, chatId: last.chatId, threadId: last.threadId, replyTo: last.platformId, sent: 0 };
    const resumed = last.id <= this.lastIdOfEarlierRuns;
    const say = (reply: string) => (resumed && reply ? resumedReply(last.text, reply) : reply);

    // Claimed messages are all from one chat; it must still belong to the group (it may have been
    // removed or moved while they waited), or they would reach another group's agent.
    if (!group || !groupHasChat(cfg, groupName, last)) {
      store.finish(ids, 'failed');
      this.deps.waiters.settle(ids, 'failed');
      log.warn({ group: groupName, chat: `${last.channel}:${last.chatId}` }, 'messages queued for a chat that no longer belongs to the group were dropped');
      return;
    }
    const model = this.deps.settings.model(group);
    const unready = this.deps.modelUnready(groupName, model);
    if (unready) {
      await this.finish(turnId, target, ids, say(unready), 'failed', []);
      return;
    }

    this.deps.db.prepare('INSERT INTO turns (id, group_name, status, model, started_at) VALUES (?, ?, ?, ?, ?)').run(turnId, groupName, 'running', model, clock());
    const channel = this.deps.channels.get(target.channel);
    const typing = this.keepTyping(channel, target.chatId, target.threadId);
    this.deps.turns.begin(turnId, target);
    const live = LiveReply.start(
      { db: this.deps.db, clock, timers: this.deps.liveTimers ?? realTimers, log, secrets: this.deps.secrets ?? (() => []) },
      { turnId, group: groupName, channelName: target.channel, target: { chatId: target.chatId, threadId: target.threadId, replyTo: target.replyTo } },
      channel,
      streamingConfig(cfg, target.channel),
    );
    const mediaStop = new AbortController();
    try {
      const media = await this.takeInMedia(group, model, messages, target, mediaStop.signal);
      const userMessages = messages.map((m) => toChatMessage(m, media.get(m.id)));
      const request: TurnRequest = {
        turnId,
        group: groupName,
        assistantName: cfg.enclave.assistantName,
        model,
        messages: [...this.deps.history.recent(groupName, cfg.enclave.defaults.historyMessages), ...userMessages],
        maxSteps: group.maxSteps,
        context: turnContext(group, last, clock()),
        tools: group.tools,
        skills: group.skillFiles.map((sk) => ({ name: sk.name, description: sk.description })),
      };
      const result = await this.deps.containers.runTurn(group, request, cfg.enclave.container.turnTimeoutSeconds * 1000, live && ((events) => live.feed(events)));
      if (result.ok) {
        // History keeps the words and the staged paths; a photo is shown to the model in its own turn only.
        const said = userMessages.map(({ role, content }) => ({ role, content }));
        const remembered = result.reply ? [...said, { role: 'assistant' as const, content: result.reply }] : said;
        await this.finish(turnId, target, ids, say(result.reply), 'answered', remembered, live);
      } else {
        const diagnosis = await this.diagnose(groupName, model);
        await this.finish(turnId, target, ids, say(diagnosis ?? agentErrorReply(result.error ?? 'unknown error')), 'failed', [], live);
      }
    } catch (err) {
      if (isDiskFull(err)) throw err;
      if (this.stopping) {
        await live?.stop();
        log.info({ group: groupName, turn: turnId }, 'turn interrupted by shutdown; it runs again at the next start');
        return;
      }
      if (err instanceof TurnAbortedError) {
        log.info({ group: groupName, turn: turnId }, 'turn stopped by /stop');
        await this.finish(turnId, target, ids, '', 'failed', [], live);
        return;
      }
      const attempts = err instanceof TurnFailedError ? err.attempts : 1;
      log.error({ group: groupName, turn: turnId, err: (err as Error).message }, 'turn failed for good');
      await this.finish(turnId, target, ids, say(turnFailedReply((err as Error).message, attempts)), 'failed', [], live);
    } finally {
      mediaStop.abort();
      this.deps.media?.images.clear(groupName);
      this.deps.turns.end(turnId);
      typing.stop();
    }
  }

  /** Fetches and reads the turn's files; what could not be taken in is told to the chat in a sentence. */
  private async takeInMedia(group: GroupConfig, model: string, messages: readonly StoredMessage[], target: ActiveTurn, signal: AbortSignal): Promise<Map<number, IngestedMedia>> {
    const withFiles = messages.filter((m) => (m.attachments?.length ?? 0) > 0);
    if (withFiles.length === 0) return new Map();
    if (!this.deps.media) {
      return new Map(withFiles.map((m) => [m.id, { text: [`[${m.senderName} sent ${m.attachments!.length} file(s) this host does not take in.]`], images: [], notices: [] }]));
    }
    const media = await prepareTurnMedia(
      this.deps.media, this.deps.config(), group, model,
      withFiles.map((m) => ({ id: m.id, channel: m.channel, senderName: m.senderName, attachments: m.attachments ?? [] })),
      signal,
    );
    let added = 0;
    for (const m of withFiles) {
      for (const [i, text] of (media.get(m.id)?.notices ?? []).entries()) {
        this.deps.outbox.add({ group: group.name, channel: m.channel, chatId: m.chatId, threadId: m.threadId, text, replyTo: m.platformId, dedupeKey: `media:${m.id}:${i}` });
        added++;
      }
    }
    if (added > 0) void this.deps.outbox.flushChat(target.channel, target.chatId).catch(() => undefined);
    return media;
  }

  private async finish(
    turnId: string,
    target: ActiveTurn,
    ids: readonly number[],
    reply: string,
    status: 'answered' | 'failed',
    remembered: readonly ChatTurnMessage[],
    live?: LiveReply,
  ): Promise<void> {
    const { db, outbox, store, history } = this.deps;
    try {
      // The live messages end as the stored reply: the outbox edits them (or sends what blocks left).
      const final = live ? await live.finish(reply) : { text: reply, live: undefined };
      db.transaction(() => {
        if (final.text) outbox.add({ group: target.group, channel: target.channel, chatId: target.chatId, threadId: target.threadId, text: final.text, replyTo: target.replyTo, dedupeKey: `turn:${turnId}`, live: final.live });
        live?.forget();
        store.finish(ids, status);
        history.append(target.group, remembered);
        db.prepare('UPDATE turns SET status = ?, finished_at = ? WHERE id = ?').run(status, this.deps.clock(), turnId);
      })();
    } catch (err) {
      // Nothing could be stored: a full disk is told to the chat by runNext, and the messages stay claimed to run again at the next start.
      if (!isDiskFull(err)) this.deps.waiters.settle(ids, 'failed');
      throw err;
    }
    // The local chat delivers at once; a slow platform keeps delivering in the background instead
    // of holding the group's turn slot (and a global one) until it is done.
    const delivered = new AbortController();
    await Promise.race([outbox.flushChat(target.channel, target.chatId).finally(() => delivered.abort()), sleep(DELIVERY_WAIT_MS, delivered.signal)]);
    this.deps.waiters.settle(ids, status);
  }

  private async diagnose(group: string, model: string): Promise<string | undefined> {
    return this.deps.diagnose?.(group, model).catch((err: unknown) => {
      this.deps.log.warn({ group, err: (err as Error).message }, 'could not check the providers after a failed turn');
      return undefined;
    });
  }

  private keepTyping(channel: Channel | undefined, chatId: string, threadId: string | undefined): { stop: () => void } {
    if (!channel) return { stop: () => undefined };
    const tick = () => void channel.setTyping(chatId, true, threadId).catch(() => undefined);
    tick();
    const timer = setInterval(tick, 4000);
    return {
      stop: () => {
        clearInterval(timer);
        void channel.setTyping(chatId, false, threadId).catch(() => undefined);
      },
    };
  }
}

function streamingConfig(cfg: Config, channel: string): StreamingConfig | undefined {
  const section = (cfg.enclave.channels as Record<string, { streaming?: StreamingConfig } | undefined>)[channel];
  return section?.streaming;
}

function toChatMessage(m: StoredMessage, media: IngestedMedia | undefined): ChatTurnMessage {
  const said = m.text.trim() === '' ? '' : m.isDirect ? m.text : `${m.senderName}: ${m.text}`;
  if (!media) return { role: 'user', content: said };
  const content = [said, ...media.text].filter((part) => part !== '').join('\n\n');
  return { role: 'user', content, ...(media.images.length > 0 && { images: media.images.map((i) => i.url) }) };
}

/** One formatter per time zone: making one costs more than the rest of a turn's host work together. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function turnContext(group: GroupConfig, last: StoredMessage, clock: number): string {
  let format = dateFormats.get(group.timezone);
  if (!format) dateFormats.set(group.timezone, (format = new Intl.DateTimeFormat('en-GB', { timeZone: group.timezone, dateStyle: 'full', timeStyle: 'short' })));
  const now = format.format(clock);
  const kind = last.isDirect ? `a direct chat with ${last.senderName}` : 'a group chat';
  return `You are answering in ${kind} on ${last.channel}. It is now ${now} (${group.timezone}).`;
}

import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/logger.js';

/**
 * The one shape every platform adapter (local, WhatsApp, Telegram, Discord, Slack) takes.
 * Nothing platform-specific crosses this boundary.
 */

export interface InboundMessage {
  /** Adapter name: 'local', 'telegram', 'whatsapp', 'discord', 'slack'. */
  channel: string;
  chatId: string;
  /** The platform's id of this message, unique within the chat (redeliveries repeat it). */
  platformId: string;
  senderId: string;
  senderName: string;
  text: string;
  /** A one-to-one chat with the bot. DMs never need a trigger. */
  isDirect: boolean;
  /** The platform's native @mention of the bot. */
  mentionsBot: boolean;
  /** The message replies to one of the bot's messages. */
  replyToBot: boolean;
  /** Platform id of the message this one replies to. */
  replyTo?: string;
  /** Ids of users mentioned in the message. */
  mentions: string[];
  /** Sent by a bot (ours or another): never answered, so bots cannot loop. */
  fromBot: boolean;
  /** When the platform says it was sent, ms since the epoch. */
  timestamp: number;
  /** The chat's title on the platform (group name, channel name), when known. */
  chatTitle?: string;
  /**
   * The thread or topic inside the chat the message was written in, when the platform has them
   * within one chat: a Telegram forum topic (message_thread_id), a Slack thread (thread_ts).
   * Everything the host sends back in this conversation carries it. A Discord thread is a channel
   * of its own, so there chatId is the thread and threadId stays unset.
   */
  threadId?: string;
  /**
   * Photos, voice notes, documents… the message carries, as the platform describes them. Nothing
   * is downloaded yet: the host fetches a file through the adapter's downloadAttachment only after
   * the message passed admission and trigger checks. Empty or unset: a text-only message.
   */
  attachments?: InboundAttachment[];
}

export type AttachmentKind = 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker';

/** One file of an inbound message, as the platform describes it; none of it is trusted. */
export interface InboundAttachment {
  kind: AttachmentKind;
  /** The type the platform claims. The host sniffs the real type from the bytes. */
  mime?: string;
  /** The size the platform states before download, when it does (checked again after). */
  bytes?: number;
  durationSeconds?: number;
  /** The file name the sender gave, when the platform has one; sanitised by the host before use. */
  name?: string;
  /**
   * What the adapter needs to fetch the file (a file id, a message key, a URL on the platform's own
   * host). Host-side only: it never reaches the agent or a model.
   */
  platformRef: string;
}

/** How much of a file a download may read, and when to give up. */
export interface DownloadLimits {
  maxBytes: number;
  signal: AbortSignal;
}

/** Raised when a download would pass DownloadLimits.maxBytes (stated or counted while streaming). */
export class AttachmentTooLargeError extends Error {
  constructor(
    message: string,
    readonly limitBytes: number,
  ) {
    super(message);
    this.name = 'AttachmentTooLargeError';
  }
}

export type OutboundFileKind = 'image' | 'audio' | 'voice' | 'document';

/** A file the host sends to a chat (an agent's send_file, delivered by the outbox). */
export interface OutboundFile {
  chatId: string;
  kind: OutboundFileKind;
  /** Sanitised file name shown to the user. */
  name: string;
  /** The type the host sniffed from the bytes. */
  mime: string;
  data: Buffer;
  /** Already within maxMessageLength. */
  caption?: string;
  replyTo?: string;
  threadId?: string;
}

export type InboundStatus = 'duplicate' | 'unregistered' | 'ignored' | 'command' | 'queued' | 'refused';

/** What finally became of a message: answered (by a command or a turn), failed, or nothing to do. */
export type InboundOutcome = 'answered' | 'failed' | 'none';

export interface InboundReceipt {
  status: InboundStatus;
  /** Resolves when everything this message caused (command answer, or its turn) is delivered. */
  settled: Promise<InboundOutcome>;
}

export type InboundHandler = (msg: InboundMessage) => Promise<InboundReceipt>;

export interface OutboundMessage {
  chatId: string;
  /** One chunk, already within maxMessageLength. */
  text: string;
  replyTo?: string;
  /** The thread or topic to post in (InboundMessage.threadId); the chat's main timeline when unset. */
  threadId?: string;
}

export interface ChannelHealth {
  connected: boolean;
  lastEventAt?: number;
  reconnects: number;
  /** Why the channel is down, in words a person can act on. */
  error?: string;
}

export interface Channel {
  readonly name: string;
  /** The platform's limit on one message's length, in characters. */
  readonly maxMessageLength: number;
  connect(onMessage: InboundHandler): Promise<void>;
  disconnect(): Promise<void>;
  send(msg: OutboundMessage): Promise<void>;
  /** Shows (or stops showing) that the bot is writing, in the thread or topic when given. */
  setTyping(chatId: string, typing: boolean, threadId?: string): Promise<void>;
  health(): ChannelHealth;
  /**
   * Fetches one attachment of a message this adapter delivered, from the platform's own hosts,
   * reading at most limits.maxBytes (AttachmentTooLargeError past it) and stopping on limits.signal.
   * Unset: the platform's files cannot be fetched, the host tells the sender so.
   */
  downloadAttachment?(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer>;
  /** Sends a file with its platform's own API; fails like send(). Unset: files cannot be sent here. */
  sendFile?(file: OutboundFile): Promise<void>;
  /**
   * Shows an answer while it is written (channels/live/ has the shared displays; each adapter's
   * live-reply.ts gives them its platform calls). Unset: the answer appears when the turn is over.
   */
  startLiveReply?(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay;
  /** Replaces the text of a message the bot posted (a live reply's); fails like send(). */
  editMessage?(chatId: string, messageId: string, text: string): Promise<void>;
}

/** Where a live reply is written. */
export interface LiveTarget {
  chatId: string;
  threadId?: string;
  replyTo?: string;
}

/** How an answer is shown while it is written: edits of one message, complete blocks as messages, or not at all. */
export type StreamingMode = 'off' | 'edit' | 'blocks';

/** One timer API for live replies, so tests move time themselves. */
export interface LiveTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LiveReplyOptions {
  mode: Exclude<StreamingMode, 'off'>;
  /** Edit mode: at most one update of the chat per this many ms. */
  editIntervalMs: number;
  /** Blocks mode: a block is sent once it has at least this many characters and ends a paragraph. */
  minBlockChars: number;
  /** Show tool steps ("searching the web…") until the answer's text starts. */
  progress: boolean;
  clock: Clock;
  timers: LiveTimers;
  log: Logger;
  /** A message was posted (its id), before any edit of it: the host records it for crash recovery. */
  onPosted(messageId: string): void;
  /** The first text of the answer is visible in the chat. */
  onVisible(): void;
}

/** What a live reply left in the chat, for the outbox to finish it with the stored reply. */
export type LiveShown =
  /** Messages showing the answer so far, in order: the outbox edits them into its chunks. */
  | { mode: 'edit'; messageIds: string[] }
  /** The first sentChars of the answer went out as complete messages; the rest starts with reopen (a code fence). */
  | { mode: 'blocks'; messageIds: string[]; sentChars: number; reopen?: string };

export interface LiveReplyDisplay {
  /** The whole answer so far (already scrubbed); called each time it grows. */
  show(text: string): void;
  /** A tool step, shown while no answer text is there. */
  progress(line: string): void;
  /** What was shown is no longer the answer (another model or a restarted agent answers again): mark it and start below it. */
  restart(notice: string): Promise<void>;
  /** Stops updating and waits for calls in flight; says what the chat shows now. */
  close(): Promise<LiveShown>;
}

/** Small durable key/value state an adapter keeps across restarts (update offsets, cursors). */
export interface ChannelStateStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** One of the host's chat commands, as a platform's command menu lists it. */
export interface ChatCommand {
  /** Without the slash: 'status'. */
  name: string;
  description: string;
}

/** What the host gives every platform adapter besides its own config and token. */
export interface ChannelContext {
  log: Logger;
  state: ChannelStateStore;
  /** The assistant's name, e.g. for the trigger word or command descriptions. */
  assistantName: string;
  /** The host's chat commands, for the platform's command menu (Telegram's menu, Discord's slash commands); none when unset. */
  commands?: readonly ChatCommand[];
  /** Where the adapter reads the time (health, pacing); the system clock when unset. */
  clock?: Clock;
}

/**
 * How an adapter's send() fails; adapters never retry a send themselves, the outbox decides:
 * - PermanentSendError: it can never succeed as things are, give it up;
 * - RetryAfterError: the platform asked to wait, try again after retryAfterMs;
 * - any other Error: a passing failure (network, 5xx, timeout), try again after a backoff.
 *
 * A send that can never succeed as things are (the bot was removed from the chat, the chat is
 * archived or deleted, the bot lacks permission): the outbox gives the reply up at once and logs
 * the reason, instead of retrying it for a day.
 */
export class PermanentSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentSendError';
  }
}

/**
 * The platform is rate limiting the bot and said when to try again: the outbox waits that long
 * (within its cap) before the next attempt, instead of its own backoff.
 */
export class RetryAfterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryAfterError';
  }
}

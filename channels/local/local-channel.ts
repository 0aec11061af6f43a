import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../../src/clock.js';
import { sniffType } from '../../src/media/sniff.js';
import {
  AttachmentTooLargeError,
  type AttachmentKind,
  type Channel,
  type ChannelHealth,
  type DownloadLimits,
  type InboundAttachment,
  type InboundHandler,
  type InboundOutcome,
  type InboundReceipt,
  type LiveReplyDisplay,
  type LiveReplyOptions,
  type LiveTarget,
  type OutboundFile,
  type OutboundMessage,
} from '../channel.js';
import { LocalLiveDisplay, type LocalLiveEvent } from './live-reply.js';
import { saveLocalFile } from './saved-files.js';

/** A file given to the local chat (`/attach`, `enclave send --attach`): its name and bytes. */
export interface LocalFile {
  name: string;
  data: Buffer;
}

/** Files held for a download that has not come yet; the oldest are dropped past this many. */
const MAX_HELD_FILES = 64;

export const LOCAL_OWNER = { id: 'owner', name: 'you' } as const;

export interface LocalExchange {
  /** The router's decision (queued, command, ignored, ...). */
  status: string;
  outcome: InboundOutcome;
  /** Everything the bot said in the chat until the message settled. */
  replies: string[];
}

export type LocalEvent =
  | { kind: 'message'; message: OutboundMessage }
  | { kind: 'typing'; chatId: string; typing: boolean }
  | LocalLiveEvent
  /** The final text of a live answer (the outbox finishing it): it replaces what was printed. */
  | { kind: 'edit'; chatId: string; messageId: string; text: string };

/**
 * The chat that needs no account: the terminal prompt and `enclave send` both submit here.
 * Every local chat is a direct chat with the owner.
 */
export class LocalChannel implements Channel {
  readonly name = 'local';
  readonly maxMessageLength = 64_000;
  private handler: InboundHandler | undefined;
  private readonly listeners = new Set<(event: LocalEvent) => void>();
  private seq = 0;
  private lastEventAt: number | undefined;
  /** Attached files by platformRef, until the turn fetches them (they live in memory only). */
  private readonly held = new Map<string, Buffer>();

  constructor(
    private readonly clock: Clock = systemClock,
    /** Where files the assistant sends are saved (the instance's data folder); unset: files cannot be sent here. */
    private readonly filesDir?: string,
  ) {}

  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
  }

  async disconnect(): Promise<void> {
    this.handler = undefined;
  }

  submit(chatId: string, text: string, sender: { id: string; name: string } = LOCAL_OWNER, files: readonly LocalFile[] = []): Promise<InboundReceipt> {
    if (!this.handler) throw new Error('the local channel is not connected');
    const attachments = files.map((f) => this.hold(f));
    const now = this.clock();
    this.lastEventAt = now;
    return this.handler({
      channel: this.name,
      chatId,
      platformId: `${now.toString(36)}-${process.pid}-${this.seq++}`,
      senderId: sender.id,
      senderName: sender.name,
      text,
      isDirect: true,
      mentionsBot: false,
      replyToBot: false,
      mentions: [],
      fromBot: false,
      timestamp: now,
      ...(attachments.length > 0 && { attachments }),
    });
  }

  async downloadAttachment(attachment: InboundAttachment, limits: DownloadLimits): Promise<Buffer> {
    const data = this.held.get(attachment.platformRef);
    if (!data) throw new Error('the attached file is no longer held (the host restarted); attach it again');
    if (data.length > limits.maxBytes) throw new AttachmentTooLargeError(`the file has ${data.length} bytes`, limits.maxBytes);
    this.held.delete(attachment.platformRef);
    return data;
  }

  /** The attachment as a platform would describe it; the bytes wait here for the turn's download. */
  private hold(file: LocalFile): InboundAttachment {
    const platformRef = randomUUID();
    this.held.set(platformRef, file.data);
    while (this.held.size > MAX_HELD_FILES) this.held.delete(this.held.keys().next().value!);
    return { kind: localKind(file.data), name: file.name, bytes: file.data.length, platformRef };
  }

  /** Sends a message and waits for everything it caused, collecting what the bot said in that chat. */
  async ask(chatId: string, text: string, files: readonly LocalFile[] = []): Promise<LocalExchange> {
    const replies: string[] = [];
    const unsubscribe = this.subscribe((e) => {
      if (e.kind === 'message' && e.message.chatId === chatId) replies.push(e.message.text);
      if (e.kind === 'edit' && e.chatId === chatId) replies.push(e.text);
    });
    try {
      const receipt = await this.submit(chatId, text, LOCAL_OWNER, files);
      const outcome = await receipt.settled;
      return { status: receipt.status, outcome, replies };
    } finally {
      unsubscribe();
    }
  }

  /** Subscribe to what the bot says and does in local chats; returns the unsubscribe function. */
  subscribe(listener: (event: LocalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async send(message: OutboundMessage): Promise<void> {
    this.emit({ kind: 'message', message });
  }

  startLiveReply(target: LiveTarget, options: LiveReplyOptions): LiveReplyDisplay {
    return new LocalLiveDisplay(target, options, (event) => this.emit(event));
  }

  async editMessage(chatId: string, messageId: string, text: string): Promise<void> {
    this.emit({ kind: 'edit', chatId, messageId, text });
  }

  /** Saves the file and says in the chat where it is, with the caption on the next line. */
  async sendFile(file: OutboundFile): Promise<void> {
    if (!this.filesDir) throw new Error('the local chat has no folder for files');
    const path = saveLocalFile(this.filesDir, file, this.clock());
    const text = `[file from the assistant: ${path}]${file.caption ? `\n${file.caption}` : ''}`;
    this.emit({ kind: 'message', message: { chatId: file.chatId, text, ...(file.threadId !== undefined && { threadId: file.threadId }) } });
  }

  async setTyping(chatId: string, typing: boolean): Promise<void> {
    this.emit({ kind: 'typing', chatId, typing });
  }

  health(): ChannelHealth {
    return { connected: this.handler !== undefined, lastEventAt: this.lastEventAt, reconnects: 0 };
  }

  private emit(event: LocalEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/** What a platform would call the file: the local chat has no photo or voice button, so the bytes say. */
function localKind(data: Buffer): AttachmentKind {
  const category = sniffType(data).category;
  if (category === 'image') return 'image';
  if (category === 'audio') return 'audio';
  if (category === 'video') return 'video';
  return 'document';
}

import { systemClock, type Clock } from '../../src/clock.js';
import type { Channel, ChannelHealth, InboundHandler, InboundOutcome, InboundReceipt, LiveReplyDisplay, LiveReplyOptions, LiveTarget, OutboundMessage } from '../channel.js';
import { LocalLiveDisplay, type LocalLiveEvent } from './live-reply.js';

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

  constructor(private readonly clock: Clock = systemClock) {}

  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
  }

  async disconnect(): Promise<void> {
    this.handler = undefined;
  }

  submit(chatId: string, text: string, sender: { id: string; name: string } = LOCAL_OWNER): Promise<InboundReceipt> {
    if (!this.handler) throw new Error('the local channel is not connected');
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
    });
  }

  /** Sends a message and waits for everything it caused, collecting what the bot said in that chat. */
  async ask(chatId: string, text: string): Promise<LocalExchange> {
    const replies: string[] = [];
    const unsubscribe = this.subscribe((e) => {
      if (e.kind === 'message' && e.message.chatId === chatId) replies.push(e.message.text);
      if (e.kind === 'edit' && e.chatId === chatId) replies.push(e.text);
    });
    try {
      const receipt = await this.submit(chatId, text);
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

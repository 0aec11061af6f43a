import type { Channel, ChannelHealth, InboundHandler, InboundReceipt, OutboundMessage } from '../channel.js';

export const LOCAL_OWNER = { id: 'owner', name: 'you' } as const;

export type LocalEvent = { kind: 'message'; message: OutboundMessage } | { kind: 'typing'; chatId: string; typing: boolean };

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

  async connect(onMessage: InboundHandler): Promise<void> {
    this.handler = onMessage;
  }

  async disconnect(): Promise<void> {
    this.handler = undefined;
  }

  submit(chatId: string, text: string, sender: { id: string; name: string } = LOCAL_OWNER): Promise<InboundReceipt> {
    if (!this.handler) throw new Error('the local channel is not connected');
    const now = Date.now();
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

  /** Subscribe to what the bot says and does in local chats; returns the unsubscribe function. */
  subscribe(listener: (event: LocalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async send(message: OutboundMessage): Promise<void> {
    this.emit({ kind: 'message', message });
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

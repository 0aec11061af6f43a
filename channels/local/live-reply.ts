import type { LiveReplyDisplay, LiveReplyOptions, LiveShown, LiveTarget } from '../channel.js';

/** What the local chat shows of an answer being written: each new piece as it arrives. */
export interface LocalLiveEvent {
  kind: 'live';
  chatId: string;
  messageId: string;
  /** The whole answer so far. */
  text: string;
  /** What is new since the last event; when the text started over, the whole text. */
  delta: string;
  /** The text started over (a tool step, another model): what was printed is not the answer. */
  restarted: boolean;
}

let nextId = 0;

/** Prints tokens as they arrive: no interval, no message limit (the terminal has neither). */
export class LocalLiveDisplay implements LiveReplyDisplay {
  private printed = '';
  private messageId: string | undefined;
  private readonly ids: string[] = [];
  private visible = false;
  private closed = false;

  constructor(
    private readonly target: LiveTarget,
    private readonly options: LiveReplyOptions,
    private readonly emit: (event: LocalLiveEvent) => void,
  ) {}

  show(text: string): void {
    if (this.closed || text === this.printed) return;
    const grows = text.startsWith(this.printed);
    const delta = grows ? text.slice(this.printed.length) : text;
    this.printed = text;
    if (text === '') return;
    this.out(text, delta, !grows);
    if (!this.visible) {
      this.visible = true;
      this.options.onVisible();
    }
  }

  progress(line: string): void {
    if (this.closed || !this.options.progress || this.printed !== '') return;
    this.out('', `(${line})\n`, false);
  }

  async restart(notice: string): Promise<void> {
    if (this.closed) return;
    if (this.messageId !== undefined) this.out(this.printed, `\n(${notice})\n`, false);
    this.printed = '';
    this.messageId = undefined;
  }

  async close(): Promise<LiveShown> {
    this.closed = true;
    return { mode: 'edit', messageIds: [...this.ids] };
  }

  private out(text: string, delta: string, restarted: boolean): void {
    if (this.messageId === undefined) {
      this.messageId = `live-${process.pid}-${++nextId}`;
      this.ids.splice(0, this.ids.length, this.messageId);
      this.options.onPosted(this.messageId);
    }
    this.emit({ kind: 'live', chatId: this.target.chatId, messageId: this.messageId, text, delta, restarted });
  }
}

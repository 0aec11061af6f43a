import type { LiveReplyDisplay, LiveReplyOptions, LiveShown } from '../channel.js';
import { nextBlock } from '../chunk.js';
import type { LivePort } from './live-port.js';

/**
 * The most messages one answer posts live (restart notices included): past it the rest comes with the
 * final reply, cut at the platform's limit. Otherwise paragraphs of minBlockChars were a flood: 16 000
 * characters in blocks of 400 are 40 messages, of 1 character thousands, again after each restart.
 */
export const MAX_LIVE_BLOCKS = 20;

/**
 * An answer sent as it is written in complete blocks, each its own message (for platforms whose
 * edits are not reliable): a block goes once it ends a paragraph outside a code fence and has
 * minBlockChars, or when it reaches the platform's limit. The outbox sends what is left at the end.
 */
export class BlockDisplay implements LiveReplyDisplay {
  /** Characters of the answer already sent (or on their way). */
  private sentChars = 0;
  /** Messages posted or on their way. */
  private posts = 0;
  /** A code fence to reopen the next block with, when the last one was cut inside code. */
  private reopen: string | undefined;
  private readonly ids: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private visible = false;

  constructor(
    private readonly port: LivePort,
    private readonly options: LiveReplyOptions,
  ) {}

  show(text: string): void {
    if (this.stopped) return;
    // A shorter text is a new answer (the draft before a tool call was discarded): what was sent
    // stays in the chat, and the new answer's blocks are counted from its own start.
    if (text.length < this.sentChars) {
      this.sentChars = 0;
      this.reopen = undefined;
    }
    for (;;) {
      if (this.posts >= MAX_LIVE_BLOCKS) return;
      const prefix = this.reopen ? `${this.reopen}\n` : '';
      const block = nextBlock(prefix + text.slice(this.sentChars), this.options.minBlockChars, this.port.maxMessageLength);
      if (!block) return;
      this.sentChars += Math.max(0, block.next - prefix.length);
      this.reopen = block.reopen;
      this.send(block.text);
    }
  }

  progress(): void {
    // A progress line would be a message of its own that stays: blocks mode shows none.
  }

  async restart(notice: string): Promise<void> {
    this.sentChars = 0;
    this.reopen = undefined;
    if (this.posts < MAX_LIVE_BLOCKS) this.send(`(${notice})`);
    await this.chain;
  }

  async close(): Promise<LiveShown> {
    this.stopped = true;
    await this.chain;
    return { mode: 'blocks', messageIds: [...this.ids], sentChars: this.sentChars, ...(this.reopen && { reopen: this.reopen }) };
  }

  private send(text: string): void {
    this.posts += 1;
    const answer = !text.startsWith('(');
    this.chain = this.chain
      .then(async () => {
        const id = await this.port.post(text);
        this.ids.push(id);
        this.options.onPosted(id);
        if (answer && !this.visible) {
          this.visible = true;
          this.options.onVisible();
        }
      })
      .catch((err: unknown) => {
        this.stopped = true;
        this.options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'live reply blocks stopped; the rest of the answer is delivered when the turn ends');
      });
  }
}

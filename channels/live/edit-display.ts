import { RetryAfterError, type LiveReplyDisplay, type LiveReplyOptions, type LiveShown } from '../channel.js';
import { splitMessage } from '../chunk.js';
import { progressText, type LivePort } from './live-port.js';

/**
 * An answer shown as it grows by editing the bot's message, at most once per editIntervalMs (or
 * later when the platform says "retry after"). Past the platform's length limit it goes on in a
 * new message, cut by the same chunker as the outbox, so the outbox's final edit changes as
 * little as possible. Any other failure stops the live updates; the outbox still delivers the answer.
 */
export class EditDisplay implements LiveReplyDisplay {
  private text = '';
  private line = '';
  private readonly ids: string[] = [];
  private readonly shown: string[] = [];
  private timer: unknown;
  /** When the armed timer fires (clock time). */
  private timerDue = 0;
  /** A fired timer's update waits in the chain: it will show the latest text, no timer is needed. */
  private queued = false;
  private chain: Promise<void> = Promise.resolve();
  private notBefore = 0;
  private stopped = false;
  private visible = false;

  constructor(
    private readonly port: LivePort,
    private readonly options: LiveReplyOptions,
  ) {}

  show(text: string): void {
    this.text = text;
    this.schedule();
  }

  progress(line: string): void {
    if (!this.options.progress) return;
    this.line = line;
    this.schedule();
  }

  async restart(notice: string): Promise<void> {
    this.cancelTimer();
    this.text = '';
    this.line = '';
    await this.enqueue(async () => {
      const last = this.ids.length - 1;
      if (last >= 0) await this.port.edit(this.ids[last]!, `${this.shown[last]}\n\n(${notice})`);
      this.ids.length = 0;
      this.shown.length = 0;
    });
  }

  async close(): Promise<LiveShown> {
    this.stopped = true;
    this.cancelTimer();
    await this.chain;
    return { mode: 'edit', messageIds: [...this.ids] };
  }

  private wanted(): string[] {
    if (this.text.trim() !== '') return splitMessage(this.text, this.port.maxMessageLength);
    if (this.line !== '' && this.ids.length <= 1) return [progressText(this.line)];
    return [];
  }

  /** Arms the timer for the next update, or re-arms it later when the wait grew (a retry-after). */
  private schedule(): void {
    if (this.stopped || this.queued) return;
    const now = this.options.clock();
    const due = Math.max(this.notBefore, now);
    if (this.timer !== undefined) {
      if (this.timerDue >= due) return;
      this.cancelTimer();
    }
    this.timerDue = due;
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.queued = true;
      void this.enqueue(() => this.update());
    }, due - now);
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Platform calls run one after another, in the order they were asked for. */
  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.chain.then(op).catch((err: unknown) => this.failed(err));
    this.chain = next;
    return next;
  }

  private async update(): Promise<void> {
    this.queued = false;
    if (this.stopped) return;
    // A timer armed before a call in flight answered "retry after" (or before its interval was
    // known) must not edit early: it waits for the rest.
    if (this.options.clock() < this.notBefore) return this.schedule();
    // The interval counts from the start of a call: the platform limits how often calls are made.
    this.notBefore = this.options.clock() + this.options.editIntervalMs;
    const wanted = this.wanted();
    const answer = this.text.trim() !== '';
    for (let i = 0; i < wanted.length; i++) {
      const piece = wanted[i]!;
      if (i >= this.ids.length) {
        const id = await this.port.post(piece);
        this.ids.push(id);
        this.shown.push(piece);
        this.options.onPosted(id);
      } else if (this.shown[i] !== piece) {
        await this.port.edit(this.ids[i]!, piece);
        this.shown[i] = piece;
      }
    }
    if (answer && !this.visible && this.ids.length > 0) {
      this.visible = true;
      this.options.onVisible();
    }
    if (this.wanted().some((piece, i) => this.shown[i] !== piece)) this.schedule();
  }

  private failed(err: unknown): void {
    if (err instanceof RetryAfterError) {
      this.notBefore = Math.max(this.notBefore, this.options.clock() + err.retryAfterMs);
      this.options.log.info({ retryAfterMs: err.retryAfterMs }, 'the platform asked the live reply to slow down');
      this.schedule();
      return;
    }
    this.stopped = true;
    this.cancelTimer();
    this.options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'live reply updates stopped; the answer is delivered when the turn ends');
  }
}

/** The two platform calls a live reply needs; each adapter's live-reply.ts implements them. */
export interface LivePort {
  readonly maxMessageLength: number;
  /** Posts a new message and resolves with its platform id; fails like Channel.send. */
  post(text: string): Promise<string>;
  /** Replaces a posted message's text; fails like Channel.send. */
  edit(messageId: string, text: string): Promise<void>;
}

export const realTimers = {
  setTimeout: (run: () => void, ms: number): unknown => setTimeout(run, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as NodeJS.Timeout),
};

export function progressText(line: string): string {
  return `(${line})`;
}

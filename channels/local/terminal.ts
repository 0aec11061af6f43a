import { createInterface } from 'node:readline';
import type { LocalChannel } from './local-channel.js';
import { parseAttachLine, readLocalFile } from './local-file.js';

export interface TerminalOptions {
  chatId: string;
  assistantName: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  onClose: () => void;
  /**
   * Lines that arrive before the scheduled flush runs are one message (a multi-line paste arrives
   * as a burst). Default at a terminal: a 30 ms quiet gap; piped input: each line alone. Tests
   * pass their own schedule and flush when they choose.
   */
  schedulePaste?: (flush: () => void) => void;
}

/** A burst of pasted lines ends when none arrived for this long; a person cannot press Enter twice this fast. */
const PASTE_GAP_MS = 30;

/** The `you> ` prompt: reads lines into the local channel and prints the answers. */
export function runTerminalChat(channel: LocalChannel, opts: TerminalOptions): () => void {
  const output = opts.output ?? process.stdout;
  const rl = createInterface({ input: opts.input ?? process.stdin, output, prompt: 'you> ' });
  const label = `${opts.assistantName.toLowerCase()}> `;

  let thinking = false;
  /** The live answer being printed: its message id and what of it is on screen. */
  let live: { messageId: string; printed: string } | undefined;
  const unsubscribe = channel.subscribe((event) => {
    if (event.kind === 'live') {
      if (event.chatId !== opts.chatId) return;
      if (!live || live.messageId !== event.messageId || event.restarted) output.write(`\r${label}`);
      live = { messageId: event.messageId, printed: event.text };
      output.write(event.delta);
      return;
    }
    if (event.kind === 'edit') {
      if (event.chatId !== opts.chatId) return;
      const printed = live?.messageId === event.messageId ? live.printed : undefined;
      live = undefined;
      output.write(printed !== undefined && event.text.startsWith(printed) ? `${event.text.slice(printed.length)}\n` : `\n${label}${event.text}\n`);
      rl.prompt(true);
      return;
    }
    if (event.kind === 'typing') {
      if (event.chatId === opts.chatId && event.typing && !thinking) output.write(`\r(${opts.assistantName} is thinking...)\n`);
      if (event.chatId === opts.chatId) thinking = event.typing;
      return;
    }
    if (event.message.chatId !== opts.chatId) return;
    output.write(`\r${label}${event.message.text}\n`);
    rl.prompt(true);
  });

  const submit = (text: string) => {
    if (!text) return rl.prompt();
    const attach = parseAttachLine(text);
    if (attach && !attach.path) {
      output.write('(usage: /attach <path> [text], with the path in quotes when it has spaces)\n');
      return rl.prompt();
    }
    const files = attach ? readLocalFile(attach.path).then((f) => [f]) : Promise.resolve([]);
    files.then((list) => channel.submit(opts.chatId, attach ? attach.text : text, undefined, list)).then(
      (receipt) => receipt.settled.finally(() => rl.prompt()),
      (err: Error) => {
        output.write(`(could not send: ${err.message})\n`);
        rl.prompt();
      },
    );
  };
  const input = opts.input ?? process.stdin;
  const burst: string[] = [];
  const flush = () => submit(burst.splice(0).join('\n').trim());
  // A terminal's paste may come in several chunks: the burst ends after a quiet gap, not a chunk.
  let gap: NodeJS.Timeout | undefined;
  const quietGap = () => {
    clearTimeout(gap);
    gap = setTimeout(flush, PASTE_GAP_MS);
  };
  const scheduled = { pending: false };
  const schedule = opts.schedulePaste
    ? () => {
        if (scheduled.pending) return;
        scheduled.pending = true;
        opts.schedulePaste!(() => {
          scheduled.pending = false;
          flush();
        });
      }
    : (input as { isTTY?: boolean }).isTTY ? quietGap : undefined;
  rl.on('line', (line) => {
    if (!schedule) return submit(line.trim());
    burst.push(line);
    schedule();
  });
  rl.on('close', () => {
    clearTimeout(gap);
    if (burst.length > 0) flush();
    opts.onClose();
  });
  output.write(`Local chat with ${opts.assistantName}. Type a message, /attach <path> [text] to send a file, /help for commands, Ctrl-D to quit.\n`);
  rl.prompt();
  return () => {
    unsubscribe();
    rl.close();
  };
}

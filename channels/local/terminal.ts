import { createInterface } from 'node:readline';
import type { LocalChannel } from './local-channel.js';
import { parseAttachLine, readLocalFile } from './local-file.js';

export interface TerminalOptions {
  chatId: string;
  assistantName: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  onClose: () => void;
}

/** The `you> ` prompt: reads lines into the local channel and prints the answers. */
export function runTerminalChat(channel: LocalChannel, opts: TerminalOptions): () => void {
  const output = opts.output ?? process.stdout;
  const rl = createInterface({ input: opts.input ?? process.stdin, output, prompt: 'you> ' });
  const label = `${opts.assistantName.toLowerCase()}> `;

  let thinking = false;
  const unsubscribe = channel.subscribe((event) => {
    if (event.kind === 'typing') {
      if (event.chatId === opts.chatId && event.typing && !thinking) output.write(`\r(${opts.assistantName} is thinking...)\n`);
      if (event.chatId === opts.chatId) thinking = event.typing;
      return;
    }
    if (event.message.chatId !== opts.chatId) return;
    output.write(`\r${label}${event.message.text}\n`);
    rl.prompt(true);
  });

  rl.on('line', (line) => {
    const text = line.trim();
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
  });
  rl.on('close', opts.onClose);
  output.write(`Local chat with ${opts.assistantName}. Type a message, /attach <path> [text] to send a file, /help for commands, Ctrl-D to quit.\n`);
  rl.prompt();
  return () => {
    unsubscribe();
    rl.close();
  };
}

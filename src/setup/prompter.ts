import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

/** The input ended (Ctrl-D, or a script gave fewer answers than questions). */
export class InputEnded extends Error {
  constructor(question: string) {
    super(`the input ended at the question "${question.trim()}"; run \`enclave setup\` again in a terminal, or answer it with a flag (see \`enclave setup --help\`)`);
    this.name = 'InputEnded';
  }
}

export interface Choice<T> {
  label: string;
  value: T;
}

/**
 * Questions on a terminal or a pipe: one line per answer, Enter takes the default shown in [brackets].
 * Secrets are read without echo on a terminal (a pipe has no echo to hide).
 */
export class Prompter {
  private readonly rl: Interface;
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  private muted = false;

  constructor(
    input: NodeJS.ReadableStream & { isTTY?: boolean },
    private readonly output: NodeJS.WritableStream,
  ) {
    const echo = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        if (!this.muted) output.write(chunk);
        done();
      },
    });
    this.rl = createInterface({ input, output: echo, terminal: input.isTTY === true });
    this.rl.on('line', (line) => this.deliver(line));
    this.rl.on('close', () => {
      this.ended = true;
      this.deliver(undefined);
    });
    this.rl.on('SIGINT', () => {
      output.write('\nSetup cancelled; what was saved before this question stays.\n');
      process.exit(130);
    });
  }

  say(text = ''): void {
    this.output.write(`${text}\n`);
  }

  /** One answer; Enter gives `def` (when there is one). */
  async ask(question: string, def?: string): Promise<string> {
    const shown = def !== undefined && def !== '' ? `${question} [${def}]: ` : `${question}: `;
    this.output.write(shown);
    const answer = (await this.next(question)).trim();
    return answer === '' ? (def ?? '') : answer;
  }

  /** A value that must not appear on screen; an empty answer keeps `keepLabel` (when given). */
  async secret(question: string): Promise<string> {
    this.output.write(`${question} (input hidden): `);
    this.muted = true;
    try {
      return (await this.next(question)).trim();
    } finally {
      this.muted = false;
      this.output.write('\n');
    }
  }

  async confirm(question: string, def: boolean): Promise<boolean> {
    for (;;) {
      const answer = (await this.ask(`${question} (y/n)`, def ? 'y' : 'n')).toLowerCase();
      if (['y', 'yes'].includes(answer)) return true;
      if (['n', 'no'].includes(answer)) return false;
      this.say('Please answer y or n.');
    }
  }

  /** A numbered list; the answer is a number or a label's exact value. */
  async choose<T>(question: string, choices: readonly Choice<T>[], defIndex: number, byName: (answer: string) => T | undefined = () => undefined): Promise<T> {
    choices.forEach((c, i) => this.say(`  ${String(i + 1).padStart(2)}. ${c.label}`));
    for (;;) {
      const answer = await this.ask(question, String(defIndex + 1));
      const n = Number(answer);
      if (Number.isInteger(n) && n >= 1 && n <= choices.length) return choices[n - 1]!.value;
      const named = byName(answer);
      if (named !== undefined) return named;
      this.say(`Type a number from 1 to ${choices.length}.`);
    }
  }

  close(): void {
    this.rl.close();
  }

  private deliver(line: string | undefined): void {
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = undefined;
      waiter(line);
    } else if (line !== undefined) {
      this.lines.push(line);
    }
  }

  private next(question: string): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new InputEnded(question));
    return new Promise((resolve, reject) => {
      this.waiting = (line) => (line === undefined ? reject(new InputEnded(question)) : resolve(line));
    });
  }
}

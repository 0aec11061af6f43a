import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI } from './cli.js';
import { waitFor } from './wait.js';

/** The CLI as a child whose output can be awaited line by line and whose stdin the test writes. */
export class CliSession {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (c: Buffer) => (this.stdout += c.toString()));
    this.child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? -1)));
  }

  /** Writes answers, one per line. */
  answer(...lines: string[]): void {
    this.child.stdin.write(lines.map((l) => `${l}\n`).join(''));
  }

  endInput(): void {
    this.child.stdin.end();
  }

  waitForOutput(text: string | RegExp): Promise<true> {
    const seen = () => (typeof text === 'string' ? this.stdout.includes(text) : text.test(this.stdout));
    return waitFor(`CLI output ${String(text)} (so far: ${this.stdout.slice(-300)} ${this.stderr.slice(-300)})`, () => seen() || undefined);
  }

  kill(): void {
    this.child.kill('SIGTERM');
  }
}

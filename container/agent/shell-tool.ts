import { spawn } from 'node:child_process';
import { MEMORY_DIR } from './protocol.js';
import { defineTool, numberArg, stringArg, type Tool } from './tools.js';

export const SHELL_DEFAULT_TIMEOUT_S = 30;
export const SHELL_MAX_TIMEOUT_S = 120;
export const SHELL_OUTPUT_MAX_BYTES = 16 * 1024;
/** How long output may keep flowing after the shell itself exited (background children). */
const AFTER_EXIT_GRACE_MS = 500;

export interface ShellOptions {
  cwd?: string;
  shell?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ShellResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  omittedBytes: number;
}

/** Collects the command's output (stdout and stderr on one pipe), keeping the first `limit` bytes. */
class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  omitted = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = chunk.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.omitted += Math.max(0, chunk.length - Math.max(room, 0));
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Runs `sh -c command` in its own process group, stderr merged into stdout; the whole group is killed on timeout or exit. */
export function runShell(command: string, timeoutSeconds: number, options: ShellOptions = {}): Promise<ShellResult> {
  const output = new CappedOutput(SHELL_OUTPUT_MAX_BYTES);
  const shell = options.shell ?? '/bin/sh';
  // stderr becomes the stdout pipe before the command starts, so output keeps the order it was
  // written in (two pipes read separately can swap a later stdout line before an earlier stderr
  // one). The command itself still runs as `sh -c command`, syntax errors and all.
  const child = spawn(shell, ['-c', 'exec 2>&1; exec "$0" -c "$1"', shell, command], {
    cwd: options.cwd ?? MEMORY_DIR,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));

  return new Promise((resolve) => {
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      killGroup(child.pid);
      child.stdout.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        output: output.text(),
        omittedBytes: output.omitted,
      });
    };

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      graceTimer = setTimeout(finish, AFTER_EXIT_GRACE_MS);
    }, timeoutSeconds * 1000);

    child.once('error', (err) => {
      output.push(Buffer.from(`failed to start the shell: ${err.message}\n`));
      finish();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      graceTimer ??= setTimeout(finish, AFTER_EXIT_GRACE_MS);
    });
    child.once('close', finish);
  });
}

export function formatShellResult(result: ShellResult, timeoutSeconds: number): string {
  const status = result.timedOut
    ? `timed out after ${timeoutSeconds} s (killed)`
    : result.exitCode !== null
      ? `exit code ${result.exitCode}`
      : `killed by ${result.signal ?? 'a signal'}`;
  const notice = result.omittedBytes > 0
    ? `\n[output truncated: ${result.omittedBytes} more bytes were omitted; only the first ${SHELL_OUTPUT_MAX_BYTES} bytes are shown]`
    : '';
  const body = result.output === '' ? '(no output)' : result.output;
  return `${status}\n${body}${notice}`;
}

export function shellTool(options: ShellOptions = {}): Tool {
  return defineTool(
    'shell',
    `Run a command with /bin/sh -c (busybox utilities; no network) in ${options.cwd ?? MEMORY_DIR}. ` +
      `Returns the exit code and the combined stdout/stderr (first ${SHELL_OUTPUT_MAX_BYTES} bytes). ` +
      `Default timeout ${SHELL_DEFAULT_TIMEOUT_S} s, at most ${SHELL_MAX_TIMEOUT_S} s.`,
    {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The shell command line' },
        timeout_seconds: { type: 'number', description: `Timeout in seconds (1-${SHELL_MAX_TIMEOUT_S}, default ${SHELL_DEFAULT_TIMEOUT_S})` },
      },
      required: ['command'],
      additionalProperties: false,
    },
    async (args) => {
      const command = stringArg(args, 'command');
      const requested = numberArg(args, 'timeout_seconds', SHELL_DEFAULT_TIMEOUT_S);
      const timeout = Math.min(Math.max(requested, 1), SHELL_MAX_TIMEOUT_S);
      return formatShellResult(await runShell(command, timeout, options), timeout);
    },
  );
}

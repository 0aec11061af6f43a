import type { Command } from 'commander';
import { closeSync, existsSync, openSync, readSync, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { enclaveHome, homePaths } from '../paths.js';
import { fail } from './output.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown in their own columns or not at all. */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);
const TAIL_BYTES = 2 * 1024 * 1024;
const MAX_VALUE_CHARS = 200;

/** One pino JSON line as a person reads it: time, level, message, then the other fields as key=value. */
export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().replace('T', ' ').slice(0, 23) : '-';
  const level = (LEVELS[Number(entry.level)] ?? String(entry.level ?? '?')).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  return [time, level, String(entry.msg ?? ''), ...fields].join(' ').trimEnd();
}

function fieldText(value: unknown): string {
  const text = typeof value === 'string' ? (/[\s"=]/.test(value) ? JSON.stringify(value) : value) : JSON.stringify(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/** Reads the file from `from` to its end; returns the complete lines and where the next read starts. */
function readLines(file: string, from: number): { lines: string[]; next: number } {
  const size = statSync(file).size;
  const start = size < from ? 0 : from; // shrunk: the log was cut or replaced, read it from the start
  if (size === start) return { lines: [], next: start };
  const buf = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], next: start };
  return { lines: text.slice(0, end).split('\n').filter((l) => l !== ''), next: start + Buffer.byteLength(text.slice(0, end + 1)) };
}

export interface LogsOptions {
  follow?: boolean;
  lines: number;
  /** Raw JSON lines instead of the readable form. */
  json?: boolean;
}

/** `enclave logs [-f]`: the last lines of ENCLAVE_HOME/data/enclave.log, readable; -f keeps printing new ones. */
export async function runLogs(opts: LogsOptions, file = homePaths(enclaveHome()).logFile, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  if (!existsSync(file)) {
    if (!opts.follow) fail(new Error(`there is no log yet at ${file}; it is written once Enclave has started (npx enclave start)`));
  }
  const show = (lines: string[]) => {
    for (const l of lines) out.write(`${opts.json ? l : formatLogLine(l)}\n`);
  };
  let offset = 0;
  if (existsSync(file)) {
    const size = statSync(file).size;
    const first = readLines(file, Math.max(0, size - TAIL_BYTES));
    show(first.lines.slice(size > TAIL_BYTES ? 1 : 0).slice(-opts.lines));
    offset = first.next;
  }
  if (!opts.follow) return;
  await new Promise<void>(() => {
    const poll = () => {
      if (!existsSync(file)) return;
      const more = readLines(file, offset);
      offset = more.next;
      show(more.lines);
    };
    // Watching the folder also sees the log being created or replaced.
    if (existsSync(dirname(file))) watch(dirname(file), () => poll()).on('error', () => undefined);
    // A slow fallback for filesystems that send no change events (network mounts).
    setInterval(poll, 1000);
    poll();
  });
}

export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('the host log (ENCLAVE_HOME/data/enclave.log), readable: time, level, message, fields')
    .option('-f, --follow', 'keep printing new lines as they are written (Ctrl-C stops)')
    .option('-n, --lines <count>', 'how many of the last lines to show', (v) => Number(v), 50)
    .option('--json', 'print the raw JSON lines')
    .action((opts: LogsOptions) => {
      if (!Number.isInteger(opts.lines) || opts.lines < 0) fail(new Error('-n takes a whole number of lines, 0 or more'), 2);
      return runLogs(opts);
    });
}

import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import type { LocalChannel, LocalExchange, LocalFile } from '../../channels/local/local-channel.js';
import type { Config } from '../config/load.js';
import type { DashboardControlAnswer } from '../dashboard/dashboard-control.js';
import { readJson, sendJson } from '../http-util.js';
import { assertSocketPath } from '../paths.js';
import { localChatOf } from './local-chat.js';
import { fromWire, MAX_SEND_BODY_BYTES, type WireFile } from './wire-files.js';

export interface SendRequest {
  group: string;
  text: string;
  /** `enclave send --attach`: the files, read by the CLI. */
  files?: WireFile[];
}

export interface SendResponse extends LocalExchange {
  error?: string;
}

/** What the running host can do for the CLI besides sending: re-read groups, report its state. */
export interface ControlHooks {
  /** Re-reads every group.yaml; returns the group names now registered. */
  reload(): Promise<string[]>;
  /** Plain text for `enclave status`. */
  status(): string;
  /** `enclave dashboard`: a login link, the sessions, revoking them. */
  dashboard?(req: unknown): DashboardControlAnswer;
}

/**
 * The running host's control socket (owner-only, 0600): `enclave send`, `enclave status` and
 * the commands that change groups talk to it, so scripts can use a running instance.
 */
export async function startControlServer(path: string, config: () => Config, local: LocalChannel, hooks: ControlHooks): Promise<Server> {
  assertSocketPath(path);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true });
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/reload') {
      // A broken group.yaml must not take the running host down: it keeps its groups and says why.
      try {
        return sendJson(res, 200, { groups: await hooks.reload() });
      } catch (err) {
        return sendJson(res, 400, { error: (err as Error).message });
      }
    }
    if (req.method === 'GET' && req.url === '/status') return sendJson(res, 200, { status: hooks.status() });
    if (req.method === 'POST' && req.url === '/dashboard') return sendJson(res, 200, hooks.dashboard?.(await readJson<unknown>(req, 4096).catch(() => undefined)) ?? { error: 'this host has no dashboard' });
    if (req.method !== 'POST' || req.url !== '/send') return sendJson(res, 404, { error: 'unknown path' });
    try {
      const body = await readJson<SendRequest>(req, MAX_SEND_BODY_BYTES);
      sendJson(res, 200, await sendAndCollect(config(), local, body.group, body.text, fromWire(body.files)));
    } catch (err) {
      sendJson(res, 400, { status: 'error', outcome: 'failed', replies: [], error: (err as Error).message } satisfies SendResponse);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  chmodSync(path, 0o600);
  return server;
}

/** Sends one message to the group's local chat and returns everything the bot said there until it settled. */
export function sendAndCollect(config: Config, local: LocalChannel, group: string, text: string, files: readonly LocalFile[] = []): Promise<SendResponse> {
  if (typeof text !== 'string') throw new Error('text must be a string');
  return local.ask(localChatOf(config, group), text, files);
}

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { TokenUsage } from '../ledger/types.js';
import { usageFromApi } from '../ledger/usage.js';
import { SseUsageTap } from './usage-tap.js';

/** A non-streamed answer larger than this is not a chat completion the agent can use. */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** complete: the upstream ended its answer; cut: its connection broke; agent_gone: the agent left. */
export type RelayEnd = 'complete' | 'cut' | 'agent_gone';

export interface StreamRelayResult {
  end: RelayEnd;
  usage: TokenUsage | undefined;
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Passes an event stream to the agent chunk by chunk as it arrives, reading usage on the way.
 * The response is left open: the caller settles first, then ends it (or destroys it when cut).
 */
export async function relayStream(upstream: Readable, res: ServerResponse, agentGone: AbortSignal): Promise<StreamRelayResult> {
  const tap = new SseUsageTap();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
  try {
    for await (const chunk of upstream) {
      const bytes = chunk as Buffer;
      if (!res.write(bytes)) await waitForDrain(res);
      tap.push(bytes);
      if (agentGone.aborted) break;
    }
  } catch {
    return { end: agentGone.aborted ? 'agent_gone' : 'cut', usage: tap.usage };
  }
  return { end: agentGone.aborted ? 'agent_gone' : 'complete', usage: tap.usage };
}

export type JsonAnswer =
  | { end: 'complete'; bytes: Buffer; usage: TokenUsage | undefined }
  | { end: 'cut' | 'agent_gone' | 'not_json' };

/** Reads a whole non-streamed answer and its usage; the caller sends the bytes on unchanged. */
export async function readJsonAnswer(upstream: Readable, agentGone: AbortSignal): Promise<JsonAnswer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of upstream) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > MAX_ANSWER_BYTES) {
        upstream.destroy();
        return { end: 'not_json' };
      }
      chunks.push(bytes);
    }
  } catch {
    return { end: agentGone.aborted ? 'agent_gone' : 'cut' };
  }
  if (agentGone.aborted) return { end: 'agent_gone' };
  const bytes = Buffer.concat(chunks);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { end: 'not_json' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { end: 'not_json' };
  return { end: 'complete', bytes, usage: usageFromApi((parsed as { usage?: unknown }).usage) };
}

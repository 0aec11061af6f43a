import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { STREAM_RESTART_FIELD } from '../../container/agent/protocol.js';
import type { TokenUsage } from '../ledger/types.js';
import { usageFromApi } from '../ledger/usage.js';
import { scrubJsonStrings } from './json-scrub.js';
import { scrubBytes } from './secret-scrubber.js';
import { SseFramingError } from './sse-events.js';
import { SseSecretScrubber } from './sse-secret-scrubber.js';
import { SseUsageTap } from './usage-tap.js';

/** A non-streamed answer larger than this is not a chat completion the agent can use. */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/**
 * complete: the upstream ended its answer; cut: its connection broke; agent_gone: the agent left;
 * unreadable: an event could not be read (not JSON, too long), so the stream was ended with an error event.
 */
export type RelayEnd = 'complete' | 'cut' | 'agent_gone' | 'unreadable';

/** Tells the agent the answer starts over (protocol.ts STREAM_RESTART_FIELD): another model answers from the start. */
export function restartEvent(reason: string): Buffer {
  return Buffer.from(`data: ${JSON.stringify({ [STREAM_RESTART_FIELD]: reason, object: 'chat.completion.chunk', choices: [] })}\n\n`);
}

/** What the agent's SDK reads as an API error in a stream. */
function errorEvent(message: string): Buffer {
  return Buffer.from(`data: ${JSON.stringify({ error: { message, type: 'upstream_error', code: 'unreadable_stream' } })}\n\n`);
}

export interface StreamRelayResult {
  end: RelayEnd;
  /** The usage of the whole answer; undefined unless it came at its end (see SseUsageTap.finalUsage). */
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

async function send(res: ServerResponse, bytes: Buffer): Promise<void> {
  if (bytes.length > 0 && !res.write(bytes)) await waitForDrain(res);
}

/**
 * Passes an event stream to the agent chunk by chunk as it arrives, with every secret value
 * scrubbed (however the chunks or the events split it), reading usage on the way. The response is left
 * open: the caller settles first, then ends it (or destroys it when cut).
 */
export async function relayStream(upstream: Readable, res: ServerResponse, agentGone: AbortSignal, secrets: readonly string[]): Promise<StreamRelayResult> {
  const tap = new SseUsageTap();
  const scrubber = new SseSecretScrubber(secrets);
  // A model answering after another broke off mid-stream goes on in the same response.
  if (!res.headersSent) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
  }
  try {
    for await (const chunk of upstream) {
      const bytes = chunk as Buffer;
      tap.push(bytes);
      await send(res, scrubber.push(bytes));
      if (agentGone.aborted) break;
    }
    if (agentGone.aborted) return { end: 'agent_gone', usage: tap.finalUsage };
    await send(res, scrubber.end());
  } catch (err) {
    if (err instanceof SseFramingError) {
      upstream.destroy();
      if (err.before?.length) await send(res, err.before);
      await send(res, errorEvent(`the model's answer stream could not be read safely (${err.message}); it was ended here. Try again or use another model.`));
      return { end: 'unreadable', usage: undefined };
    }
    return { end: agentGone.aborted ? 'agent_gone' : 'cut', usage: tap.finalUsage };
  }
  return { end: 'complete', usage: tap.finalUsage };
}

export type JsonAnswer =
  | { end: 'complete'; bytes: Buffer; usage: TokenUsage | undefined }
  | { end: 'cut' | 'agent_gone' | 'not_json' };

type Collected = { end: 'complete'; bytes: Buffer } | { end: 'too_large' } | { end: 'cut' };

/** Reads a whole body of at most maxBytes; a larger one is dropped unread. */
async function collect(upstream: Readable, maxBytes: number): Promise<Collected> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of upstream) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > maxBytes) {
        upstream.destroy();
        return { end: 'too_large' };
      }
      chunks.push(bytes);
    }
  } catch {
    return { end: 'cut' };
  }
  return { end: 'complete', bytes: Buffer.concat(chunks) };
}

function parseObject(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a whole non-streamed answer and its usage; `bytes` has every secret value scrubbed. */
export async function readJsonAnswer(upstream: Readable, agentGone: AbortSignal, secrets: readonly string[]): Promise<JsonAnswer> {
  const body = await collect(upstream, MAX_ANSWER_BYTES);
  if (body.end === 'cut') return { end: agentGone.aborted ? 'agent_gone' : 'cut' };
  if (agentGone.aborted) return { end: 'agent_gone' };
  if (body.end === 'too_large') return { end: 'not_json' };
  const parsed = parseObject(body.bytes);
  if (!parsed) return { end: 'not_json' };
  // Decoded strings are scrubbed (a \u-escaped secret is caught) and the answer written out again; the byte scrubber runs last.
  const scrubbed = Buffer.from(JSON.stringify(scrubJsonStrings(parsed, secrets)), 'utf8');
  return { end: 'complete', bytes: scrubBytes(scrubbed, secrets), usage: usageFromApi(parsed.usage) };
}

/**
 * The usage a provider reported in an error answer (top level or inside `error`), if any. The
 * body itself is never passed on: it can quote part of the key or name the upstream.
 */
export async function readErrorUsage(upstream: Readable, maxBytes: number): Promise<TokenUsage | undefined> {
  const body = await collect(upstream, maxBytes);
  if (body.end !== 'complete') return undefined;
  const parsed = parseObject(body.bytes);
  if (!parsed) return undefined;
  const error = parsed.error;
  return usageFromApi(parsed.usage) ?? (typeof error === 'object' && error !== null ? usageFromApi((error as { usage?: unknown }).usage) : undefined);
}

import { FormData, request } from 'undici';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { ProviderConfig, TranscriptionConfig } from '../config/schema.js';
import { priceFor, type PriceTable } from '../ledger/pricing.js';
import type { BudgetLedger, BudgetRefusal } from '../ledger/types.js';
import { NO_USAGE } from '../ledger/usage.js';
import type { Logger } from '../logger.js';
import type { Cooldowns } from './cooldowns.js';
import { scrubbableSecrets, scrubText } from './text-scrubber.js';
import { createUpstreamDispatcher, provesNeverSent, scrubUpstream, type UpstreamDispatcher } from './upstream-call.js';

/** What a transcription needs from the host: the same key lookup, ledger, audit and cooldowns as a model call. */
export interface TranscriptionServices {
  config: () => TranscriptionConfig | undefined;
  providers: () => readonly ProviderConfig[];
  globalPrices: () => PriceTable;
  secret: (name: string) => string | undefined;
  /** Every secret value the host holds: none reaches the agent in a transcript, as in a model's answer. */
  secretValues: () => readonly string[];
  ledger: BudgetLedger;
  audit: AuditSink;
  cooldowns: Cooldowns;
  log: Logger;
  dispatcher?: UpstreamDispatcher;
  onBudgetRefused?: (group: string, refusal: BudgetRefusal) => void;
  onSettled?: (group: string) => void;
}

export interface TranscriptionRequest {
  group: GroupConfig;
  audio: Buffer;
  mime: string;
  fileName: string;
  /** The longest the audio can be (audioSecondsBound, at most media.audioMaxSeconds): reserved, and the most ever charged. */
  maxSeconds: number;
  /** The length the host measured or the platform stated, charged when the provider reports none. */
  knownSeconds?: number;
  signal: AbortSignal;
}

export type TranscriptionResult =
  | { ok: true; text: string; seconds: number | undefined }
  | { ok: false; reason: 'not_configured' | 'no_price' | 'budget' | 'cooling' | 'failed'; message: string };

const MAX_ANSWER_BYTES = 1024 * 1024;

/** Ceil to whole micro-dollars: perMinute USD × minutes. */
function minuteMicros(perMinute: number, seconds: number): number {
  return Math.ceil(Math.round(perMinute * (seconds / 60) * 1e6 * 1000) / 1000);
}

function reportedSeconds(answer: Record<string, unknown>): number | undefined {
  const usage = answer.usage as { type?: unknown; seconds?: unknown } | undefined;
  if (usage && typeof usage.seconds === 'number' && usage.seconds >= 0) return usage.seconds;
  return typeof answer.duration === 'number' && answer.duration >= 0 ? answer.duration : undefined;
}

/**
 * Speech-to-text through the host's provider path: the configured provider's key is added here,
 * the worst case (perMinute × the longest accepted audio) is reserved before anything is sent and
 * settled on the duration the provider reports, and each call is audited like a model call. Over
 * budget, no price or no configuration: nothing is sent.
 */
export function createTranscriber(s: TranscriptionServices) {
  const dispatcher = s.dispatcher ?? createUpstreamDispatcher();
  return async function transcribe(req: TranscriptionRequest): Promise<TranscriptionResult> {
    const cfg = s.config();
    const group = req.group.name;
    const actor = `agent:${group}`;
    if (!cfg) return { ok: false, reason: 'not_configured', message: 'no speech-to-text is set up (transcription in enclave.yaml)' };
    const provider = s.providers().find((p) => p.name === cfg.provider);
    if (!provider) return { ok: false, reason: 'not_configured', message: `transcription.provider ${cfg.provider} is not in providers` };
    const price = priceFor(provider, cfg.model, s.globalPrices());
    if (!price || price.perMinute === undefined) {
      const message = `no per-minute price for ${cfg.model}: set prices.${cfg.model}.perMinute in enclave.yaml (0 for a local model)`;
      s.audit.append({ kind: 'model_refused', group, actor, detail: { reason: 'no_price', model: cfg.model, provider: provider.name, purpose: 'transcription', message } });
      return { ok: false, reason: 'no_price', message };
    }
    if (s.cooldowns.remainingMs(provider.name, cfg.model) > 0) return { ok: false, reason: 'cooling', message: 'speech-to-text failed a moment ago; it is paused briefly' };
    const key = provider.secret ? s.secret(provider.secret) : undefined;
    if (provider.secret && !key) return { ok: false, reason: 'not_configured', message: `the key ${provider.secret} of provider ${provider.name} is not set` };

    const reservedMicros = minuteMicros(price.perMinute, req.maxSeconds);
    const reservation = s.ledger.reserve({ group, timezone: req.group.timezone, model: cfg.model, provider: provider.name, micros: reservedMicros, tokens: 0 });
    if (!reservation.ok) {
      const { message, ...limits } = reservation.refusal;
      s.audit.append({ kind: 'model_refused', group, actor, detail: { reason: 'budget', model: cfg.model, provider: provider.name, purpose: 'transcription', message, ...limits } });
      s.onBudgetRefused?.(group, reservation.refusal);
      return { ok: false, reason: 'budget', message };
    }
    const settle = (outcome: 'ok' | 'failed' | 'no_usage' | 'aborted', micros: number | 'reservation', extra: Record<string, unknown>) => {
      try {
        s.ledger.settle({ reservationId: reservation.reservationId, outcome, ...(micros === 'reservation' ? {} : { usage: NO_USAGE, micros }) });
      } catch (err) {
        s.log.error({ group, err: (err as Error).message }, 'settling a transcription failed; the reservation stays charged');
      }
      s.audit.append({
        kind: 'model_call', group, actor,
        detail: { purpose: 'transcription', model: cfg.model, provider: provider.name, outcome, reservationId: reservation.reservationId, reservedMicros, micros: micros === 'reservation' ? reservedMicros : micros, ...extra },
      });
      s.onSettled?.(group);
    };

    const form = new FormData();
    form.set('model', cfg.model);
    form.set('response_format', 'verbose_json');
    form.set('file', new Blob([new Uint8Array(req.audio)], { type: req.mime }), req.fileName);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (key) headers.authorization = `Bearer ${key}`;
    const timeoutMs = provider.timeoutSeconds * 1000;
    let status: number;
    let answer: Record<string, unknown> | undefined;
    try {
      const res = await request(`${provider.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`, {
        method: 'POST', headers, body: form, signal: req.signal, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      const text = await readCapped(res.body);
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) answer = parsed as Record<string, unknown>;
      } catch {
        answer = undefined;
      }
    } catch (err) {
      const neverSent = provesNeverSent(err);
      s.log.warn({ group, provider: provider.name, err: scrubUpstream((err as Error).message, provider, key) }, 'transcription failed');
      settle(req.signal.aborted ? 'aborted' : 'failed', neverSent ? 0 : 'reservation', { reason: req.signal.aborted ? 'aborted' : 'unreachable' });
      // Our own deadline or /stop says nothing about the provider.
      if (!req.signal.aborted) s.cooldowns.start(provider.name, cfg.model);
      return { ok: false, reason: 'failed', message: 'the speech-to-text service could not be reached' };
    }
    if (status < 200 || status > 299 || !answer || typeof answer.text !== 'string') {
      // An error answer is not billed; an unreadable 200 may have been.
      const billed = status >= 200 && status <= 299;
      settle(billed ? 'no_usage' : 'failed', billed ? 'reservation' : 0, { status });
      if (status >= 500 || status === 429) s.cooldowns.start(provider.name, cfg.model);
      return { ok: false, reason: 'failed', message: `the speech-to-text service answered with an error (${status})` };
    }
    const seconds = reportedSeconds(answer) ?? req.knownSeconds;
    if (seconds === undefined) settle('no_usage', 'reservation', { status });
    else {
      const micros = minuteMicros(price.perMinute, seconds);
      if (micros <= reservedMicros) settle('ok', micros, { status, seconds });
      else {
        // The charge stays within what was reserved; the overrun is recorded for the owner to see.
        s.log.warn({ group, model: cfg.model, provider: provider.name, reservedMicros, micros, seconds, reservedSeconds: req.maxSeconds }, 'a transcription reported more audio than was reserved; charged the reservation');
        settle('ok', reservedMicros, { status, seconds, reservedSeconds: req.maxSeconds, overrun_micros: micros - reservedMicros });
      }
    }
    return { ok: true, text: scrubText(answer.text, scrubbableSecrets([...s.secretValues(), ...(key ? [key] : [])])).trim(), seconds };
  };
}

export type Transcriber = ReturnType<typeof createTranscriber>;

async function readCapped(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) break;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

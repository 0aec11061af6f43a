import { splitMessage } from '../../channels/chunk.js';
import { PermanentSendError, type Channel, type OutboundMessage } from '../../channels/channel.js';

/**
 * What a reply's live messages already show, stored with its outbox row:
 * - edit: these messages show the answer so far; the outbox edits them into its chunks;
 * - skip: the first `skip` characters went out as complete blocks; the rest (reopened with a
 *   code fence when a block was cut inside one) is sent as new messages.
 */
export type OutboxLive = { edit: string[] } | { skip: number; reopen?: string };

export type DeliveryStep = { kind: 'send'; text: string } | { kind: 'edit'; messageId: string; text: string };

/** A live message left over when the final answer needs fewer messages than the live one used. */
export const LEFTOVER_LIVE_TEXT = '(continued above)';

export function parseOutboxLive(json: string | null): OutboxLive | undefined {
  if (json === null) return undefined;
  try {
    const value = JSON.parse(json) as Partial<{ edit: unknown; skip: unknown; reopen: unknown }>;
    if (Array.isArray(value.edit) && value.edit.every((id) => typeof id === 'string')) return { edit: value.edit as string[] };
    if (typeof value.skip === 'number' && value.skip >= 0) return { skip: value.skip, ...(typeof value.reopen === 'string' && { reopen: value.reopen }) };
  } catch {
    // fall through: an unreadable mark is delivered as a plain reply
  }
  return undefined;
}

/** The platform calls that deliver a reply, in order; progress in the outbox counts these steps. */
export function deliverySteps(text: string, live: OutboxLive | undefined, limit: number, canEdit: boolean): DeliveryStep[] {
  if (live && 'skip' in live) {
    const rest = (live.reopen ? `${live.reopen}\n` : '') + text.slice(live.skip).replace(/^\n+/, '');
    return rest.trim() === '' ? [] : splitMessage(rest, limit).map((piece) => ({ kind: 'send', text: piece }));
  }
  const chunks = splitMessage(text, limit);
  const ids = live && canEdit ? live.edit : [];
  const steps: DeliveryStep[] = chunks.map((piece, i) => (i < ids.length ? { kind: 'edit', messageId: ids[i]!, text: piece } : { kind: 'send', text: piece }));
  for (const messageId of ids.slice(chunks.length)) steps.push({ kind: 'edit', messageId, text: LEFTOVER_LIVE_TEXT });
  return steps;
}

/** One step; an edit the platform refuses for good (the message was deleted) is sent as a new message instead. */
export async function runDeliveryStep(channel: Channel, step: DeliveryStep, base: Omit<OutboundMessage, 'text'>): Promise<void> {
  if (step.kind === 'send' || !channel.editMessage) return channel.send({ ...base, text: step.text });
  try {
    await channel.editMessage(base.chatId, step.messageId, step.text);
  } catch (err) {
    if (!(err instanceof PermanentSendError) || step.text === LEFTOVER_LIVE_TEXT) {
      if (err instanceof PermanentSendError) return;
      throw err;
    }
    await channel.send({ ...base, text: step.text });
  }
}

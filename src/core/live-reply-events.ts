import { EventEmitter } from 'node:events';

/** The first text of an answer became visible in a chat (for the benchmark and the dashboard). */
export interface FirstTextEvent {
  turnId: string;
  group: string;
  channel: string;
  chatId: string;
  /** When the live reply started (the turn's model work began), ms since the epoch (the host clock). */
  startedAt: number;
  /** When the platform confirmed the first message or edit carrying answer text. */
  at: number;
}

interface LiveReplyEventMap {
  'first-text': [FirstTextEvent];
}

/** Process-wide: subscribe with liveReplyEvents.on('first-text', ...). */
export const liveReplyEvents = new EventEmitter<LiveReplyEventMap>();

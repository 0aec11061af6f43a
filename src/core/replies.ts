/** Sentences the host itself says in chats. Kept together so their tone stays consistent. */

export function turnFailedReply(reason: string, attempts: number): string {
  return `Sorry, I could not answer that: ${reason}${attempts > 1 ? ` (tried ${attempts} times)` : ''}. Please try again; if it keeps failing, /status and the host log say more.`;
}

export function agentErrorReply(reason: string): string {
  const said = reason.trim().replace(/[.\s]+$/, '');
  return `Sorry, I could not answer that: ${said}. Please try again; if it keeps failing, /status and the host log say more.`;
}

export function truncationNotice(original: number, kept: number): string {
  return `\n\n[Enclave: this message was ${original} characters long; only the first ${kept} were kept.]`;
}

/** To the sender of a message cut at maxMessageChars: what was kept and what to do. */
export function messageCutReply(original: number, kept: number): string {
  return `Your message was ${original} characters long, so I read only the first ${kept} (the last ${original - kept} were cut; the limit is maxMessageChars in enclave.yaml). Send the rest in another message if I need it.`;
}

/** Shown under a live answer that another model (or a restarted agent) answers again below. */
export const LIVE_RESTART_NOTICE = 'interrupted — the answer starts again below';

/** Ends a live answer whose turn was stopped before it finished. */
export const LIVE_STOPPED_NOTICE = '(stopped before the end)';

/** What a live message shows after Enclave restarted while it was being written. */
export const LIVE_INTERRUPTED_TEXT = '(interrupted by a restart of Enclave — the full answer follows below)';

const QUOTED_CHARS = 80;

/** An answer to a message sent before a restart: it says which question it answers. */
export function resumedReply(question: string, reply: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  const quote = line.length > QUOTED_CHARS ? `${line.slice(0, QUOTED_CHARS - 1)}…` : line;
  return `(Answering your message from before the restart: "${quote}")\n\n${reply}`;
}

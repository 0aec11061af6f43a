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

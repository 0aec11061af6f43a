/** Sentences the host itself says in chats. Kept together so their tone stays consistent. */

export const NO_PROVIDER_REPLY =
  'No model provider is configured yet: store a key with `enclave secrets set OPENAI_API_KEY` (or set OPENAI_API_KEY, and OPENAI_BASE_URL for another OpenAI-compatible endpoint, in the environment), or add a provider to enclave.yaml; then restart Enclave.';

export function turnFailedReply(reason: string, attempts: number): string {
  return `Sorry, I could not answer that: ${reason}${attempts > 1 ? ` (tried ${attempts} times)` : ''}. Please try again; if it keeps failing, /status and the host log say more.`;
}

export function agentErrorReply(reason: string): string {
  return `Sorry, that turn failed: ${reason}`;
}

export function truncationNotice(original: number, kept: number): string {
  return `\n\n[Enclave: this message was ${original} characters long; only the first ${kept} were kept.]`;
}

/** Shown under a live answer that another model (or a restarted agent) answers again below. */
export const LIVE_RESTART_NOTICE = 'interrupted — the answer starts again below';

/** Ends a live answer whose turn was stopped before it finished. */
export const LIVE_STOPPED_NOTICE = '(stopped before the end)';

/** What a live message shows after Enclave restarted while it was being written. */
export const LIVE_INTERRUPTED_TEXT = '(interrupted by a restart of Enclave — the full answer follows below)';

/** A chat anywhere: its channel (adapter name) and the platform's chat id. */
export interface ChatRef {
  channel: string;
  chatId: string;
}

/** `<channel>:<chat id>`, the form group.yaml, the CLI and the audit use. */
export function formatChatRef(ref: ChatRef): string {
  return `${ref.channel}:${ref.chatId}`;
}

/** Splits at the first colon (chat ids may contain colons); undefined when there is none. */
export function parseChatRef(text: string): ChatRef | undefined {
  const at = text.indexOf(':');
  if (at <= 0 || at === text.length - 1) return undefined;
  return { channel: text.slice(0, at), chatId: text.slice(at + 1) };
}

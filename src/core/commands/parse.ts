export interface ParsedCommand {
  name: string;
  args: string[];
}

/** "/status", "/status@EnclaveBot arg" -> { name: 'status', args }. Anything else is not a command. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = /^\/([a-z][a-z0-9_]*)(?:@\S+)?(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), args: (match[2] ?? '').split(/\s+/).filter(Boolean) };
}

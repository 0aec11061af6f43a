/** A team operation refused or failed in a way the caller (agent, owner, CLI) is told in a sentence. */
export class TeamError extends Error {
  constructor(
    message: string,
    readonly problem: 'invalid' | 'refused' | 'not_found' | 'denied' | 'error',
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

import type { z } from 'zod';
import type { HostToolName } from '../../container/agent/host-tool-contract.js';
import type { GroupConfig } from '../config/groups.js';

/** A call as the host knows it: the group of the socket it arrived on, its running turn and that turn's chat. */
export interface ToolCall {
  group: GroupConfig;
  turnId: string;
  channel: string;
  chatId: string;
  /** The thread or forum topic the turn is in; what the tool sends or schedules goes there. */
  threadId?: string;
  args: Record<string, unknown>;
}

/** A performed call: the result for the agent, and what its audit row records besides tool and outcome. */
export interface ToolDone {
  result: unknown;
  audit?: Record<string, unknown>;
}

/** One host-performed tool. The dispatcher has already checked the turn, the group's tools list and the limits. */
export interface HostTool {
  name: HostToolName;
  perform(call: ToolCall): Promise<ToolDone> | ToolDone;
}

/**
 * An expected failure whose message goes back to the agent. 'error' means the tool ran and failed
 * (audited as a call); every other outcome is a refusal (audited as a denial).
 */
export class ToolRefusal extends Error {
  constructor(
    message: string,
    readonly outcome: 'invalid' | 'refused' | 'not_found' | 'denied' | 'rate_limited' | 'error',
    readonly audit: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A tool's arguments checked against its schema; what is wrong goes back to the agent as one refusal. */
export function parseToolArgs<T extends z.ZodType>(schema: T, args: unknown): z.infer<T> {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  throw new ToolRefusal(`invalid arguments: ${problems.join('; ')}`, 'invalid');
}

import { isHostToolName, type HostToolName } from '../../container/agent/host-tool-contract.js';
import type { HostToolResponse } from '../../container/agent/protocol.js';
import type { AuditSink } from '../audit/types.js';
import type { Clock } from '../clock.js';
import type { GroupConfig } from '../config/groups.js';
import type { HostTool } from './host-tool.js';
import { ToolRefusal } from './host-tool.js';
import { DEFAULT_TOOL_LIMITS, ToolRateLimiter, type ToolLimits } from './rate-limit.js';

export interface DispatcherDeps {
  /** The groups as configured now: read on every call, so a reload takes effect at once. */
  groups: () => ReadonlyMap<string, GroupConfig>;
  /** The chat a group's running turn answers; undefined when that turn is not running. */
  turnTarget: (group: string, turnId: string) => { channel: string; chatId: string; threadId?: string } | undefined;
  tools: readonly HostTool[];
  /** Refusals and repeated calls are aggregated by a ThrottledAudit in production. */
  audit: AuditSink;
  clock: Clock;
  /** Default: the group's `toolLimits` over DEFAULT_TOOL_LIMITS. */
  limits?: (group: GroupConfig) => ToolLimits;
}

/**
 * The one door to every host-performed tool. The caller is the group whose socket the call came
 * in on and that group's running turn, as the socket server knows them; nothing in the request
 * body names a group or a chat. Every call passes the same checks in the same order (a known tool,
 * a running turn, enabled in the group's `tools`, within the limits) and gets one audit row.
 */
export class HostToolDispatcher {
  private readonly registry = new Map<HostToolName, HostTool>();
  private readonly limiter: ToolRateLimiter;

  constructor(private readonly deps: DispatcherDeps) {
    for (const tool of deps.tools) this.registry.set(tool.name, tool);
    this.limiter = new ToolRateLimiter(deps.clock);
  }

  /** The socket server's handler: `group` is the socket's, `turnId` the turn it is running. */
  readonly handle = async (groupName: string, turnId: string, name: string, args: Record<string, unknown>): Promise<HostToolResponse> => {
    const tool = isHostToolName(name) ? this.registry.get(name) : undefined;
    // The name the agent made up is recorded, but never as the tool: audit kinds are host codes only.
    if (!tool) return this.refuse(groupName, turnId, 'unknown', 'invalid', `unknown tool "${name.slice(0, 100)}"`, { requested: name.slice(0, 100) });
    const group = this.deps.groups().get(groupName);
    const target = group && this.deps.turnTarget(groupName, turnId);
    if (!group || !target) return this.refuse(groupName, turnId, tool.name, 'denied', 'no turn of this group is in progress');
    if (!group.tools.includes(tool.name)) {
      return this.refuse(groupName, turnId, tool.name, 'refused', `${tool.name} is not enabled for this group (tools in group.yaml)`);
    }
    // A looping agent meets this wall thousands of times: the refusal is a plain value, not a thrown Error.
    const over = this.limiter.take(groupName, turnId, tool.name, this.deps.limits?.(group) ?? { ...DEFAULT_TOOL_LIMITS, ...group.toolLimits });
    if (over) return this.refuse(groupName, turnId, tool.name, 'rate_limited', over);
    try {
      const done = await tool.perform({ group, turnId, channel: target.channel, chatId: target.chatId, threadId: target.threadId, args });
      this.record(groupName, turnId, tool.name, 'ok', done.audit);
      return { ok: true, result: done.result };
    } catch (err) {
      if (!(err instanceof ToolRefusal)) throw err;
      return this.refuse(groupName, turnId, tool.name, err.outcome, err.message, err.audit);
    }
  };

  private refuse(group: string, turnId: string, tool: string, outcome: ToolRefusal['outcome'], reason: string, detail: Record<string, unknown> = {}): HostToolResponse {
    this.record(group, turnId, tool, outcome, { ...detail, reason });
    return { ok: false, error: reason };
  }

  /** One audit shape: a performed call is a 'tool_call', a refused one a 'denial'; both name tool and outcome. */
  private record(group: string, turnId: string, tool: string, outcome: ToolRefusal['outcome'] | 'ok', detail: Record<string, unknown> = {}): void {
    const kind = outcome === 'ok' || outcome === 'error' ? 'tool_call' : 'denial';
    this.deps.audit.append({ kind, group, actor: `agent:${group}`, detail: { tool, outcome, turn: turnId, ...detail } });
  }
}

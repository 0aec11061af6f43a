import type { HostToolResponse } from '../../container/agent/protocol.js';
import { TASK_TOOL_NAMES } from '../../container/agent/task-tool-schemas.js';
import type { AuditSink } from '../audit/types.js';
import type { Config } from '../config/load.js';
import type { TaskTools } from '../scheduler/task-tools.js';
import type { HostToolHandler } from '../socket/group-socket-server.js';
import { webFetch, WebFetchRefused, type WebFetchOptions } from './web-fetch.js';

export interface HostToolHandlerDeps {
  config: () => Config;
  taskTools: TaskTools;
  /** The chat a running turn answers; host tools act there and nowhere else. */
  turnTarget: (group: string, turnId: string) => { channel: string; chatId: string } | undefined;
  audit: AuditSink;
  web?: WebFetchOptions;
}

/**
 * Host-performed tools besides send_message. The group is the socket's; the host re-checks that
 * the group enabled the tool and acts only for that group and the chat of its running turn.
 */
export function createHostToolHandler(deps: HostToolHandlerDeps): HostToolHandler {
  return async (groupName, turnId, tool, args): Promise<HostToolResponse> => {
    const group = deps.config().groups.get(groupName);
    const target = deps.turnTarget(groupName, turnId);
    const deny = (reason: string): HostToolResponse => {
      deps.audit.append({ kind: 'denial', group: groupName, actor: `agent:${groupName}`, detail: { tool, reason } });
      return { ok: false, error: reason };
    };
    if (!group || !target) return deny('no turn of this group is in progress');
    if ((TASK_TOOL_NAMES as readonly string[]).includes(tool)) {
      return deps.taskTools.handle(tool, { group, channel: target.channel, chatId: target.chatId }, args);
    }
    if (tool !== 'web_fetch') return deny(`unknown tool "${tool}"`);
    if (!group.tools.includes('web_fetch')) return deny('web_fetch is not enabled for this group (tools in group.yaml)');
    const url = typeof args.url === 'string' ? args.url : '';
    try {
      const page = await webFetch(url, group.webAllowlist, deps.web);
      deps.audit.append({ kind: 'tool_call', group: groupName, actor: `agent:${groupName}`, detail: { tool, url, outcome: 'ok', status: page.status, chars: page.text.length } });
      return { ok: true, result: page };
    } catch (err) {
      const refused = err instanceof WebFetchRefused;
      const reason = refused ? err.message : `the fetch failed: ${(err as Error).message}`;
      deps.audit.append({ kind: refused ? 'denial' : 'tool_call', group: groupName, actor: `agent:${groupName}`, detail: { tool, url, outcome: refused ? 'refused' : 'error', reason } });
      return { ok: false, error: reason };
    }
  };
}

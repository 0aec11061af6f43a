import type { Clock } from '../clock.js';
import type { HostTool } from './host-tool.js';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import type { TaskStore } from '../scheduler/task-store.js';
import { TaskService } from '../services/task-service.js';
import { HostToolDispatcher } from './dispatcher.js';
import type { ToolLimits } from './rate-limit.js';
import { sendFileTool, type SendFileDeps } from './send-file.js';
import { sendMessageTool, type SendToTurnChat } from './send-message.js';
import { taskTools } from './task-tools.js';
import { webFetchTool } from './web-fetch-tool.js';
import type { WebFetchOptions } from './web-fetch.js';

export interface HostToolsDeps {
  groups: () => ReadonlyMap<string, GroupConfig>;
  turnTarget: (group: string, turnId: string) => { channel: string; chatId: string; threadId?: string } | undefined;
  send: SendToTurnChat;
  /** send_file's checks and delivery; without them the tool is refused as unknown. */
  sendFile?: SendFileDeps;
  tasks: TaskStore;
  onTasksChanged?: () => void;
  /** The agents' audit (a ThrottledAudit in production): tool calls, refusals and the task changes agents make. */
  audit: AuditSink;
  clock: Clock;
  web?: WebFetchOptions;
  limits?: (group: GroupConfig) => ToolLimits;
  /** More tools from other parts (the team tools), behind the same dispatcher. */
  extraTools?: readonly HostTool[];
}

/** Every host-performed tool behind the one dispatcher; a new tool is one more entry here. */
export function createHostTools(deps: HostToolsDeps): HostToolDispatcher {
  return new HostToolDispatcher({
    groups: deps.groups,
    turnTarget: deps.turnTarget,
    audit: deps.audit,
    clock: deps.clock,
    limits: deps.limits,
    tools: [
      sendMessageTool(deps.send),
      ...(deps.sendFile ? [sendFileTool(deps.sendFile)] : []),
      // Task changes an agent makes are audited through the agents' throttled sink, like its calls.
      ...taskTools(new TaskService({ store: deps.tasks.withAudit(deps.audit), clock: deps.clock, groups: deps.groups, onChange: deps.onTasksChanged })),
      webFetchTool(deps.web),
      ...(deps.extraTools ?? []),
    ],
  });
}

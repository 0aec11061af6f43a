import type { AuditSink } from '../../audit/types.js';
import type { HostServices } from '../../services/host-services.js';
import { accessCommands } from './access-commands.js';
import { budgetChatCommand } from './budget-chat-command.js';
import type { CommandSpec } from './commands.js';
import { conversationCommands } from './conversation-commands.js';
import { modelCommand } from './model-command.js';
import { statusCommand, type StatusDeps } from './status-command.js';
import { tasksChatCommand } from './tasks-chat-command.js';
import { teamChatCommand, type TeamChatDeps } from './team-chat-command.js';

export interface ChatCommandDeps extends StatusDeps {
  audit: AuditSink;
  services: HostServices;
  /** The agent teams' service and task store (`/team`). */
  team: Omit<TeamChatDeps, 'config'>;
}

/** Every chat command, in the order /help lists them. */
export function chatCommands(deps: ChatCommandDeps): CommandSpec[] {
  const { services } = deps;
  return [
    statusCommand(deps),
    budgetChatCommand({ budget: services.budget }),
    ...conversationCommands(deps),
    modelCommand(deps),
    tasksChatCommand({ tasks: services.tasks }),
    teamChatCommand({ config: deps.config, ...deps.team }),
    ...accessCommands({ pairings: services.pairings, groups: services.groups }),
  ];
}

import type { PairingStore } from '../../access/pairing-store.js';
import type { AuditSink } from '../../audit/types.js';
import type { Db } from '../../db/database.js';
import type { TaskStore } from '../../scheduler/task-store.js';
import { accessCommands } from './access-commands.js';
import { budgetChatCommand } from './budget-chat-command.js';
import type { CommandSpec } from './commands.js';
import { conversationCommands } from './conversation-commands.js';
import { modelCommand } from './model-command.js';
import { statusCommand, type StatusDeps } from './status-command.js';
import { tasksChatCommand } from './tasks-chat-command.js';

export interface ChatCommandDeps extends StatusDeps {
  db: Db;
  audit: AuditSink;
  pairings: PairingStore;
  tasks: TaskStore;
  onTasksChanged: () => void;
  reloadGroups: () => Promise<string[]>;
  now: () => number;
}

/** Every chat command, in the order /help lists them. */
export function chatCommands(deps: ChatCommandDeps): CommandSpec[] {
  return [
    statusCommand(deps),
    budgetChatCommand(deps),
    ...conversationCommands(deps),
    modelCommand(deps),
    tasksChatCommand({ tasks: deps.tasks, onChange: deps.onTasksChanged }),
    ...accessCommands(deps),
  ];
}

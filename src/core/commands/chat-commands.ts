import type { Channel } from '../../../channels/channel.js';
import type { PairingStore } from '../../access/pairing-store.js';
import type { AuditSink } from '../../audit/types.js';
import type { Config } from '../../config/load.js';
import type { ContainerManager } from '../../container/container-manager.js';
import type { Db } from '../../db/database.js';
import type { TaskStore } from '../../scheduler/task-store.js';
import type { GroupQueue } from '../group-queue.js';
import type { GroupSettings } from '../group-settings.js';
import type { History } from '../history.js';
import type { MessageStore } from '../message-store.js';
import { accessCommands } from './access-commands.js';
import { budgetChatCommand } from './budget-chat-command.js';
import type { CommandSpec } from './commands.js';
import { conversationCommands } from './conversation-commands.js';
import { modelCommand } from './model-command.js';
import { statusCommand } from './status-command.js';
import { tasksChatCommand } from './tasks-chat-command.js';

export interface ChatCommandDeps {
  config: () => Config;
  db: Db;
  audit: AuditSink;
  pairings: PairingStore;
  history: History;
  store: MessageStore;
  queue: GroupQueue;
  containers: ContainerManager;
  channels: ReadonlyMap<string, Channel>;
  settings: GroupSettings;
  tasks: TaskStore;
  lastModel: (group: string) => string | undefined;
  budgetLine: (group: string) => string;
  onTasksChanged: () => void;
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

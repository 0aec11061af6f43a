import type { ContainerManager } from '../../container/container-manager.js';
import type { History } from '../../db/history.js';
import { groupOf, type CommandSpec } from './commands.js';

export function conversationCommands(deps: { history: History; containers: ContainerManager }): CommandSpec[] {
  const reset = (name: string, help: string): CommandSpec => ({
    name,
    usage: `/${name}`,
    help,
    needsGroup: true,
    run: (ctx) => {
      deps.history.reset(groupOf(ctx).name);
      return 'Started a fresh conversation. Memory files are kept.';
    },
  });
  return [
    reset('reset', 'start a fresh conversation (memory files stay)'),
    reset('new', 'same as /reset'),
    {
      name: 'stop',
      usage: '/stop',
      help: 'stop the turn that is running now',
      needsGroup: true,
      run: (ctx) =>
        deps.containers.abortTurn(groupOf(ctx).name)
          ? 'Stopped the running turn. The messages it was answering stay unanswered.'
          : 'Nothing is running right now.',
    },
  ];
}

import type { Channel } from '../../../channels/channel.js';
import type { Config } from '../../config/load.js';
import { providerFor } from '../../config/providers.js';
import type { ContainerManager } from '../../container/container-manager.js';
import type { GroupQueue } from '../group-queue.js';
import type { GroupSettings } from '../group-settings.js';
import type { History } from '../../db/history.js';
import type { MessageStore } from '../message-store.js';
import { groupOf, type CommandSpec } from './commands.js';

export interface StatusDeps {
  config: () => Config;
  history: History;
  store: MessageStore;
  queue: GroupQueue;
  containers: ContainerManager;
  channels: ReadonlyMap<string, Channel>;
  settings: GroupSettings;
  lastModel: (group: string) => string | undefined;
  /** One line on the group's spend, e.g. "today $0.12 of $1.00, this month $3.40 of $20.00". */
  budgetLine: (group: string) => string;
}

export function channelHealthLines(channels: ReadonlyMap<string, Channel>): string[] {
  return [...channels.values()].map((ch) => {
    const h = ch.health();
    const last = h.lastEventAt ? `, last event ${new Date(h.lastEventAt).toISOString()}` : '';
    return `  ${ch.name}: ${h.connected ? 'connected' : `down${h.error ? ` (${h.error})` : ''}`}, reconnects ${h.reconnects}${last}`;
  });
}

export function statusCommand(deps: StatusDeps): CommandSpec {
  return {
    name: 'status',
    usage: '/status',
    help: 'model, container, queue, channel health and budget',
    needsGroup: true,
    run: (ctx) => {
      const group = groupOf(ctx);
      const { containers, queue, store, channels } = deps;
      const c = containers.state(group.name);
      const model = deps.settings.model(group);
      const provider = providerFor(deps.config().providers, model);
      const others = group.allowedModels.filter((m) => m !== model);
      return [
        `Group: ${group.name} (time zone ${group.timezone})`,
        `Model: ${model}${others.length ? `, fallbacks ${others.join(', ')}` : ''} via ${provider ? provider.name : 'no provider configured'}`,
        `Last answer by: ${deps.lastModel(group.name) ?? 'nobody yet'}`,
        `Container: ${c.state}${c.startedAt ? ` since ${new Date(c.startedAt).toISOString()}` : ''}, restarts ${c.restarts}`,
        `Queue: ${queue.isRunning(group.name) ? 'turn running' : 'idle'}, ${store.countPending(group.name)} message(s) waiting; ${queue.activeCount} turn(s) running across groups`,
        `Conversation: ${deps.history.count(group.name)} message(s) in the current session`,
        `Budget: ${deps.budgetLine(group.name)}`,
        'Channels:',
        ...channelHealthLines(channels),
      ].join('\n');
    },
  };
}

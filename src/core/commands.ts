import type { Channel } from '../../channels/channel.js';
import type { GroupConfig } from '../config/groups.js';
import type { Config } from '../config/load.js';
import { providerFor } from '../config/providers.js';
import type { ContainerManager } from '../container/container-manager.js';
import type { GroupQueue } from './group-queue.js';
import type { History } from './history.js';
import type { MessageStore } from './message-store.js';

export interface ParsedCommand {
  name: string;
  args: string[];
}

/** "/status", "/status@EnclaveBot arg" -> { name: 'status', args }. Anything else is not a command. */
export function parseCommand(text: string): ParsedCommand | undefined {
  const match = /^\/([a-z][a-z0-9_]*)(?:@\S+)?(?:\s+([\s\S]*))?$/i.exec(text.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), args: (match[2] ?? '').split(/\s+/).filter(Boolean) };
}

export interface CommandDeps {
  config: () => Config;
  history: History;
  store: MessageStore;
  queue: GroupQueue;
  containers: ContainerManager;
  channels: ReadonlyMap<string, Channel>;
  lastModel: (group: string) => string | undefined;
}

type CommandHandler = (group: GroupConfig, args: string[]) => string;

/** Chat commands the host answers itself: they never reach a container or a model. */
export class Commands {
  private readonly handlers: Record<string, { help: string; run: CommandHandler }> = {
    help: { help: 'this list', run: () => this.help() },
    status: { help: 'model, container, queue and channel health', run: (g) => this.status(g) },
    reset: { help: 'start a fresh conversation (memory files stay)', run: (g) => this.reset(g) },
    new: { help: 'same as /reset', run: (g) => this.reset(g) },
  };

  constructor(private readonly deps: CommandDeps) {}

  run(cmd: ParsedCommand, group: GroupConfig): string {
    const handler = this.handlers[cmd.name];
    if (!handler) return `Unknown command /${cmd.name}.\n${this.help()}`;
    return handler.run(group, cmd.args);
  }

  private help(): string {
    const lines = Object.entries(this.handlers).map(([name, h]) => `/${name} - ${h.help}`);
    return ['Commands:', ...lines, 'Anything else is passed to the assistant.'].join('\n');
  }

  private status(group: GroupConfig): string {
    const { containers, queue, store, channels } = this.deps;
    const cfg = this.deps.config();
    const c = containers.state(group.name);
    const provider = providerFor(cfg.providers, group.model);
    const lastModel = this.deps.lastModel(group.name);
    const health = [...channels.values()].map((ch) => {
      const h = ch.health();
      return `  ${ch.name}: ${h.connected ? 'connected' : `down${h.error ? ` (${h.error})` : ''}`}, reconnects ${h.reconnects}`;
    });
    return [
      `Group: ${group.name} (time zone ${group.timezone})`,
      `Model: ${group.model}${group.fallbacks.length ? `, fallbacks ${group.fallbacks.join(', ')}` : ''} via ${provider ? provider.name : 'no provider configured'}`,
      `Last answer by: ${lastModel ?? 'nobody yet'}`,
      `Container: ${c.state}${c.startedAt ? ` since ${new Date(c.startedAt).toISOString()}` : ''}, restarts ${c.restarts}`,
      `Queue: ${queue.isRunning(group.name) ? 'turn running' : 'idle'}, ${store.countPending(group.name)} message(s) waiting; ${queue.activeCount} turn(s) running across groups`,
      `Conversation: ${this.deps.history.count(group.name)} message(s) in the current session`,
      'Channels:',
      ...health,
    ].join('\n');
  }

  private reset(group: GroupConfig): string {
    this.deps.history.reset(group.name);
    return 'Started a fresh conversation. Memory files are kept.';
  }
}

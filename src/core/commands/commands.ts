import type { ChatCommand, InboundMessage } from '../../../channels/channel.js';
import type { RefusalNotices } from '../../access/refusal-notices.js';
import type { AuditSink } from '../../audit/types.js';
import type { GroupConfig } from '../../config/groups.js';
import type { ParsedCommand } from './parse.js';

export interface CommandContext {
  msg: InboundMessage;
  /** The chat's group; undefined in a chat that is not registered. */
  group?: GroupConfig;
  owner: boolean;
  /** <channel>:<sender id> */
  identity: string;
}

export interface CommandSpec {
  name: string;
  /** e.g. "/budget [set daily|monthly <usd>]" */
  usage: string;
  help: string;
  /** Works only in a registered chat. */
  needsGroup: boolean;
  /** Owner-only for these arguments (e.g. `/budget set ...` but not `/budget`). */
  ownerOnly?: (args: string[]) => boolean;
  run(ctx: CommandContext, args: string[]): string | Promise<string>;
}

export interface CommandsDeps {
  audit: AuditSink;
  notices: RefusalNotices;
}

/** The group a command that needsGroup runs for; the registry checked it exists. */
export function groupOf(ctx: CommandContext): GroupConfig {
  if (!ctx.group) throw new Error('this command needs a registered chat');
  return ctx.group;
}

/** Chat commands the host answers itself: they never reach a container or a model. */
export class Commands {
  private readonly specs = new Map<string, CommandSpec>();

  constructor(
    specs: readonly CommandSpec[],
    private readonly deps: CommandsDeps,
  ) {
    for (const spec of specs) this.specs.set(spec.name, spec);
  }

  knows(name: string): boolean {
    return name === 'help' || this.specs.has(name);
  }

  isOwnerOnly(cmd: ParsedCommand): boolean {
    return this.specs.get(cmd.name)?.ownerOnly?.(cmd.args) === true;
  }

  /** Commands an unregistered chat may use (so the owner can /register it). */
  worksWithoutGroup(name: string): boolean {
    if (name === 'help') return true;
    const spec = this.specs.get(name);
    return spec !== undefined && !spec.needsGroup;
  }

  /** The reply, or undefined when a refusal was already told within the hour. */
  async run(cmd: ParsedCommand, ctx: CommandContext): Promise<string | undefined> {
    if (cmd.name === 'help') return this.help(ctx);
    const spec = this.specs.get(cmd.name);
    if (!spec) return `Unknown command /${cmd.name}.\n${this.help(ctx)}`;
    if (spec.needsGroup && !ctx.group) return 'This chat is not set up for the assistant yet.';
    if (spec.ownerOnly?.(cmd.args) && !ctx.owner) {
      this.deps.audit.append({
        kind: 'denial',
        group: ctx.group?.name,
        actor: ctx.identity,
        detail: { reason: 'owner_only_command', command: cmd.name, args: cmd.args.slice(0, 3), chat: `${ctx.msg.channel}:${ctx.msg.chatId}` },
      });
      return this.deps.notices.take(`owner-cmd:${ctx.identity}`) ? `Only the owner can use /${cmd.name}${cmd.args[0] ? ` ${cmd.args[0]}` : ''}.` : undefined;
    }
    try {
      return await spec.run(ctx, cmd.args);
    } catch (err) {
      return `/${cmd.name} failed: ${(err as Error).message}`;
    }
  }

  /** The commands anyone may use, for the platforms' command menus. */
  menu(): ChatCommand[] {
    const open = [...this.specs.values()].filter((s) => !s.ownerOnly?.([]));
    return [...open.map((s) => ({ name: s.name, description: capitalised(s.help) })), { name: 'help', description: 'What the commands do' }];
  }

  help(ctx: Pick<CommandContext, 'owner'>): string {
    const lines = [...this.specs.values()]
      .filter((s) => ctx.owner || !s.ownerOnly?.([]))
      .map((s) => `${s.usage} - ${s.help}`);
    return ['Commands:', '/help - this list', ...lines, 'Anything else is passed to the assistant.'].join('\n');
  }
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

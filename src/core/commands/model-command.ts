import type { AuditSink } from '../../audit/types.js';
import type { GroupSettings } from '../group-settings.js';
import { groupOf, type CommandSpec } from './commands.js';

export function modelCommand(deps: { settings: GroupSettings; audit: AuditSink; lastModel: (group: string) => string | undefined }): CommandSpec {
  return {
    name: 'model',
    usage: '/model [name]',
    help: "show the model, or (owner) switch among the group's allowed models",
    needsGroup: true,
    ownerOnly: (args) => args.length > 0,
    run: (ctx, args) => {
      const group = groupOf(ctx);
      const current = deps.settings.model(group);
      if (args.length === 0) {
        const last = deps.lastModel(group.name);
        return [
          `Model: ${current}`,
          `Allowed: ${group.allowedModels.join(', ')}`,
          last && last !== current ? `The last answer came from ${last} (a fallback).` : '',
        ]
          .filter(Boolean)
          .join('\n');
      }
      const wanted = args[0]!;
      if (!group.allowedModels.includes(wanted)) {
        return `${wanted} is not one of this group's models (${group.allowedModels.join(', ')}). Add it to fallbacks in groups/${group.name}/group.yaml first.`;
      }
      deps.settings.set(group.name, 'model', wanted);
      deps.audit.append({ kind: 'group_change', group: group.name, actor: ctx.identity, detail: { setting: 'model', from: current, to: wanted } });
      return `Model switched to ${wanted}.`;
    },
  };
}

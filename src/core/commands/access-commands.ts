import { formatChatRef } from '../../../channels/chat-ref.js';
import type { GroupLifecycle } from '../../services/group-lifecycle.js';
import type { PairingService } from '../../services/pairing-service.js';
import type { CommandSpec } from './commands.js';

export interface AccessCommandDeps {
  pairings: PairingService;
  groups: GroupLifecycle;
}

export function accessCommands(deps: AccessCommandDeps): CommandSpec[] {
  return [
    {
      name: 'whoami',
      usage: '/whoami',
      help: 'who you are to the assistant, and which group this chat is',
      needsGroup: false,
      run: (ctx) =>
        [
          `You are ${ctx.identity}${ctx.owner ? ' (owner)' : ''}.`,
          `This chat is ${ctx.msg.channel}:${ctx.msg.chatId}${ctx.group ? `, group ${ctx.group.name}` : ', not registered'}.`,
        ].join('\n'),
    },
    {
      name: 'approve',
      usage: '/approve <code>',
      help: 'let the person with this pairing code talk to the assistant',
      needsGroup: false,
      ownerOnly: () => true,
      run: (ctx, args) => {
        if (!args[0]) return 'Usage: /approve <code> (the code the person received when they messaged the assistant).';
        const pairing = deps.pairings.approve(args[0], ctx.identity);
        if (!pairing) return 'No pending pairing has that code. Codes expire after 1 hour; `enclave pair list` shows the waiting ones.';
        return `Approved ${pairing.senderName} (${pairing.channel}:${pairing.senderId}). They can message the assistant now.`;
      },
    },
    {
      name: 'register',
      usage: '/register <name>',
      help: 'make this chat a group with its own agent and memory',
      needsGroup: false,
      ownerOnly: () => true,
      run: async (ctx, args) => {
        if (ctx.group) return `This chat already belongs to group ${ctx.group.name}.`;
        const name = args[0]?.toLowerCase();
        if (!name) return 'Usage: /register <name>, e.g. /register family (lowercase letters, digits, - and _).';
        await deps.groups.add({ name, chat: formatChatRef(ctx.msg), actor: ctx.identity, via: 'register' });
        return `Registered this chat as group ${name}. It has its own agent and memory now; edit groups/${name}/group.yaml to change its trigger, model or budget.`;
      },
    },
  ];
}

import type { Config } from '../../config/load.js';
import { TeamError } from '../../teams/team-error.js';
import type { TeamService } from '../../teams/team-service.js';
import type { TeamTaskStore } from '../../teams/team-store.js';
import { teamChatLines } from '../../teams/team-view.js';
import { groupOf, type CommandSpec } from './commands.js';

export interface TeamChatDeps {
  config: () => Config;
  service: Pick<TeamService, 'cancel'>;
  store: TeamTaskStore;
}

/** `/team` shows the chat's agent team and its tasks in flight; the owner's `/team cancel <id>` stops one task's chain. */
export function teamChatCommand(deps: TeamChatDeps): CommandSpec {
  return {
    name: 'team',
    usage: '/team [cancel <id>]',
    help: "this group's agent team: members, their rights, tasks in flight; the owner may cancel a task",
    needsGroup: true,
    ownerOnly: (args) => args[0]?.toLowerCase() === 'cancel',
    run: (ctx, args) => {
      const group = groupOf(ctx);
      const team = group.team?.name;
      if (!team) return 'This group is in no agent team. `enclave team apply <file>` creates one (README "Agent teams").';
      if (args[0]?.toLowerCase() !== 'cancel') {
        if (args.length) return 'Usage: /team shows the team; /team cancel <id> stops a task (owner only).';
        return teamChatLines(deps.config(), deps.store, team).join('\n');
      }
      // A task of another team is answered like a missing one.
      const missing = `There is no task #${(args[1] ?? '?').slice(0, 20)} in team ${team} (see /team).`;
      const id = Number(args[1]?.replace(/^#/, ''));
      if (!Number.isSafeInteger(id) || id <= 0) return missing;
      let cancelled;
      try {
        cancelled = deps.service.cancel(id, ctx.identity, team);
      } catch (err) {
        if (err instanceof TeamError && err.problem === 'not_found') return missing;
        throw err;
      }
      if (cancelled.length === 0) return `Task #${id} had already finished; its chain takes no new work.`;
      return `Cancelled ${cancelled.map((t) => `#${t.id}`).join(', ')} (task #${id} and the open work of its chain).`;
    },
  };
}

import type { Config } from '../config/load.js';
import { formatUsd } from '../ledger/money.js';
import type { BoardStore } from './board-store.js';
import type { TeamTaskStore } from './team-store.js';

/** Plain lines about the teams, for `enclave team ...` (and any other front end that shows them). */
export function teamListLines(config: Config): string[] {
  const teams = Object.entries(config.enclave.teams);
  if (teams.length === 0) return ['No teams. Declare one under `teams:` in enclave.yaml (README "Agent teams").'];
  return teams.map(([name, t]) => `${name}: ${t.members.join(', ')} (maxDepth ${t.maxDepth}, maxChainUsd ${t.maxChainUsd}, maxFanOut ${t.maxFanOut})`);
}

export function teamShowLines(config: Config, team: string): string[] {
  const t = config.enclave.teams[team];
  if (!t) throw new Error(`there is no team "${team}" (enclave team list shows them)`);
  const lines = [`Team ${team}: maxDepth ${t.maxDepth}, maxChainUsd ${t.maxChainUsd}, maxFanOut ${t.maxFanOut}, askTimeoutSeconds ${t.askTimeoutSeconds}`];
  for (const member of t.members) {
    const g = config.groups.get(member);
    const acl = g?.team?.acl;
    const kind = g && g.chats.length === 0 ? 'worker' : `chats ${g?.chats.join(', ')}`;
    lines.push(`  ${member} (${kind}, model ${g?.model}): hands off to ${acl?.handOffTo.join(', ') || 'nobody'}; board read ${acl?.board.read.join(', ') || '-'}, write ${acl?.board.write.join(', ') || '-'}; publish ${acl?.publish.join(', ') || '-'}, subscribe ${acl?.subscribe.join(', ') || '-'}`);
  }
  return lines;
}

export function teamTaskLines(store: TeamTaskStore, opts: { team?: string; all?: boolean }): string[] {
  const tasks = store.list(opts);
  if (tasks.length === 0) return [opts.all ? 'No team tasks.' : 'No team tasks in flight (--all shows finished ones).'];
  return tasks.map((t) => {
    const chain = store.chain(t.chainId);
    const spend = chain ? `chain ${t.chainId.slice(0, 8)} ${formatUsd(chain.spentMicros)}/${formatUsd(chain.limitMicros)}` : `chain ${t.chainId.slice(0, 8)}`;
    return `#${t.id} ${t.team}: ${t.from} → ${t.to} ${t.kind} "${t.title}" ${t.state} (depth ${t.depth}, ${spend})`;
  });
}

export function teamBoardLines(board: BoardStore, team: string): string[] {
  const entries = board.readAll(team);
  if (entries.length === 0) return [`The board of ${team} is empty.`];
  return entries.map((e) => `${e.key} v${e.version} by ${e.updatedBy}${e.expiresAt ? ` (expires ${e.expiresAt})` : ''}: ${e.value.length > 120 ? `${e.value.slice(0, 119)}…` : e.value}`);
}

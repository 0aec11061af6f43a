import type { Config } from '../config/load.js';
import { formatUsd } from '../ledger/money.js';
import type { BoardStore } from './board-store.js';
import { displayText } from './display-text.js';
import type { TeamTask, TeamTaskStore } from './team-store.js';

/** Plain lines about the teams, for `enclave team ...` (and any other front end that shows them). */
export function teamListLines(config: Config): string[] {
  const teams = Object.entries(config.enclave.teams);
  if (teams.length === 0) return ['No teams. Declare one under `teams:` in enclave.yaml (README "Agent teams").'];
  return teams.map(([name, t]) => `${name}: ${t.members.join(', ')} (maxDepth ${t.maxDepth}, maxChainUsd ${t.maxChainUsd}, maxFanOut ${t.maxFanOut})`);
}

/** With `chats: false` (a chat's /team, seen by anyone admitted there) a member's chat ids are not shown: they name people's DMs. */
export function teamShowLines(config: Config, team: string, opts: { chats: boolean } = { chats: true }): string[] {
  const t = config.enclave.teams[team];
  if (!t) throw new Error(`there is no team "${team}" (enclave team list shows them)`);
  const lines = [`Team ${team}: maxDepth ${t.maxDepth}, maxChainUsd ${t.maxChainUsd}, maxFanOut ${t.maxFanOut}, askTimeoutSeconds ${t.askTimeoutSeconds}`];
  for (const member of t.members) {
    const g = config.groups.get(member);
    const acl = g?.team?.acl;
    // A group.yaml may come from a team file made elsewhere: its free-form values are shown without escapes or bidi controls.
    const kind = g && g.chats.length === 0 ? 'worker' : opts.chats ? `chats ${displayText(String(g?.chats.join(', ')), 500)}` : 'chat group';
    lines.push(`  ${member} (${kind}, model ${displayText(String(g?.model), 120)}): hands off to ${acl?.handOffTo.join(', ') || 'nobody'}; board read ${acl?.board.read.join(', ') || '-'}, write ${acl?.board.write.join(', ') || '-'}; publish ${acl?.publish.join(', ') || '-'}, subscribe ${acl?.subscribe.join(', ') || '-'}`);
  }
  return lines;
}

export function teamTaskLines(store: TeamTaskStore, opts: { team?: string; all?: boolean }): string[] {
  const tasks = store.list(opts);
  if (tasks.length === 0) return [opts.all ? 'No team tasks.' : 'No team tasks in flight (--all shows finished ones).'];
  return tasks.map((t) => `#${t.id} ${t.team}: ${taskLine(store, t)}`);
}

/** `/team` in a chat: the chat's team, each member's rights, and the team's tasks in flight. */
export function teamChatLines(config: Config, store: TeamTaskStore, team: string): string[] {
  const tasks = store.list({ team, limit: 20 });
  const lines = teamShowLines(config, team, { chats: false });
  if (tasks.length === 0) return [...lines, 'No tasks in flight.'];
  return [...lines, 'Tasks in flight (/team cancel <id> stops one and the rest of its chain):', ...tasks.map((t) => `  #${t.id} ${taskLine(store, t)}`)];
}

/** Who asked whom, what, its state and the chain's spend so far. */
function taskLine(store: TeamTaskStore, t: TeamTask): string {
  const chain = store.chain(t.chainId);
  const spend = chain ? `chain ${t.chainId.slice(0, 8)} ${formatUsd(chain.spentMicros)}/${formatUsd(chain.limitMicros)}` : `chain ${t.chainId.slice(0, 8)}`;
  // Titles are written by agents: hostile text, shown on one line with nothing that could reorder or restyle it.
  return `${t.from} → ${t.to} ${t.kind} "${displayText(t.title)}" ${t.state} (depth ${t.depth}, ${spend})`;
}

export function teamBoardLines(board: BoardStore, team: string): string[] {
  const entries = board.readAll(team);
  if (entries.length === 0) return [`The board of ${team} is empty.`];
  return entries.map((e) => `${e.key} v${e.version} by ${e.updatedBy}${e.expiresAt ? ` (expires ${e.expiresAt})` : ''}: ${displayText(e.value, 120)}`);
}

import { BoardStore } from '../teams/board-store.js';
import { TeamTaskStore } from '../teams/team-store.js';
import { teamBoardLines, teamListLines, teamShowLines, teamTaskLines } from '../teams/team-view.js';
import { withHomeState, type HomeStateOptions } from './home-state.js';

export type TeamAction = { verb: 'list' } | { verb: 'show'; team: string } | { verb: 'tasks'; team?: string; all: boolean } | { verb: 'board'; team: string };

/** `enclave team list|show|tasks|board`: read-only views of the teams, their tasks and boards. */
export function runTeam(action: TeamAction, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, (state) => {
    const lines =
      action.verb === 'list'
        ? teamListLines(state.config)
        : action.verb === 'show'
          ? teamShowLines(state.config, action.team)
          : action.verb === 'tasks'
            ? teamTaskLines(new TeamTaskStore(state.db, state.clock), { team: action.team, all: action.all })
            : teamBoardLines(new BoardStore(state.db, state.clock), action.team);
    for (const line of lines) state.print(line);
  });
}

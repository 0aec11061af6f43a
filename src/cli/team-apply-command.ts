import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { TeamApplyService, teamApplyPlanLines } from '../services/team-apply.js';
import { reloadRunningHost, withHomeState, type HomeStateOptions } from './home-state.js';

const CLI_ACTOR = 'cli';

export interface TeamApplyOptions extends HomeStateOptions {
  /** Apply without asking. */
  yes?: boolean;
  /** Where the answer to "Apply?" is read (default: stdin). */
  input?: NodeJS.ReadableStream;
}

/** `enclave team apply <file> [--yes]`: shows what the team file creates and changes, asks, then writes it. */
export function runTeamApply(file: string, opts: TeamApplyOptions = {}): Promise<void> {
  return withHomeState(opts, async (state) => {
    const service = new TeamApplyService({ config: () => state.config, audit: state.audit, reloadHost: () => reloadRunningHost(state.config) });
    const plan = service.plan(resolve(file));
    for (const line of teamApplyPlanLines(plan, state.config.paths.home)) state.print(line);
    if (plan.conflicts.length) throw new Error(`nothing was written: resolve the ${plan.conflicts.length === 1 ? 'conflict' : `${plan.conflicts.length} conflicts`} above, then run the apply again`);
    if (plan.writes.length === 0) return;
    if (!opts.yes && !(await confirmed(opts.input ?? process.stdin, state.out))) {
      state.print('Nothing was written. (Answer y to apply, or pass --yes.)');
      return;
    }
    const applied = await service.apply(plan, CLI_ACTOR);
    state.print(`Applied team ${applied.team}: wrote ${applied.written.length} file(s).${applied.hostReloaded ? ' The running Enclave picked it up.' : ' Enclave uses it from its next start.'}`);
  });
}

async function confirmed(input: NodeJS.ReadableStream, out: { write(text: string): unknown }): Promise<boolean> {
  const rl = createInterface({ input, output: out as NodeJS.WritableStream, terminal: false });
  const ended = new Promise<string>((done) => rl.once('close', () => done('')));
  try {
    const answer = await Promise.race([rl.question('Apply these changes? [y/N] '), ended]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

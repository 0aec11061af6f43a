import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { AuditSink } from '../audit/types.js';
import { writeFileAtomic } from '../config/atomic-file.js';
import { withReloadedGroups, type Config } from '../config/load.js';
import { displayText } from '../teams/display-text.js';
import { planTeamApply, type PlannedMember, type TeamApplyPlan } from './team-apply-plan.js';

export type { TeamApplyPlan } from './team-apply-plan.js';

export interface TeamApplyDeps {
  config: () => Config;
  audit: AuditSink;
  /** Makes a running host re-read its groups and teams: true when one did, false when none runs. */
  reloadHost: () => Promise<boolean>;
}

export interface TeamApplied {
  team: string;
  /** Files written, relative to the home. */
  written: string[];
  hostReloaded: boolean;
}

export class TeamApplyError extends Error {}

/** `enclave team apply`: a whole team from one file, written once for every front end. */
export class TeamApplyService {
  constructor(private readonly deps: TeamApplyDeps) {}

  /** What applying the file would do; writes nothing. Throws ConfigError for a bad file. */
  plan(file: string): TeamApplyPlan {
    return planTeamApply(this.deps.config(), file);
  }

  /**
   * Writes the plan: each file whole (temp file + rename), group files first and enclave.yaml last,
   * then reads the result back; when it would not load, every file is put back as it was.
   */
  async apply(plan: TeamApplyPlan, actor: string): Promise<TeamApplied> {
    if (plan.conflicts.length) throw new TeamApplyError(`nothing was written: ${plan.conflicts.length} conflict(s) to resolve first (${plan.conflicts[0]!.what})`);
    const config = this.deps.config();
    const rel = (p: string) => relative(config.paths.home, p);
    for (const w of plan.writes) {
      const now = existsSync(w.path) ? readFileSync(w.path, 'utf8') : null;
      if (now !== w.before) throw new TeamApplyError(`nothing was written: ${rel(w.path)} changed since the plan was made; run the apply again`);
    }
    if (plan.writes.length === 0) return { team: plan.team, written: [], hostReloaded: false };

    const done: { path: string; before: string | null }[] = [];
    try {
      for (const w of plan.writes) {
        mkdirSync(dirname(w.path), { recursive: true, mode: 0o700 });
        writeFileAtomic(w.path, w.text);
        done.push(w);
      }
      withReloadedGroups(config);
    } catch (err) {
      for (const w of done.reverse()) if (w.before !== null) writeFileAtomic(w.path, w.before);
      for (const dir of plan.newDirs) rmSync(dir, { recursive: true, force: true });
      throw new TeamApplyError(`nothing was changed: the team would not load (${(err as Error).message})`);
    }
    this.audit(plan, actor);
    return { team: plan.team, written: plan.writes.map((w) => rel(w.path)), hostReloaded: await this.deps.reloadHost() };
  }

  private audit(plan: TeamApplyPlan, actor: string): void {
    for (const m of plan.members.filter((x) => x.action === 'create' || x.action === 'join')) {
      this.deps.audit.append({ kind: 'group_change', group: m.name, actor, detail: { action: m.action === 'create' ? 'team_apply' : 'team_rights', team: plan.team } });
    }
    if (plan.teamAction === 'new') this.deps.audit.append({ kind: 'team', actor, detail: { action: 'team_created', team: plan.team, members: plan.entry.members } });
  }
}

/** The plan in plain lines: what is created, changed or already there, and the conflicts with their fixes. */
export function teamApplyPlanLines(plan: TeamApplyPlan, home: string): string[] {
  const limits = Object.entries(plan.entry).filter(([k]) => k !== 'members').map(([k, v]) => `${k} ${String(v)}`);
  const lines = [
    `Team "${plan.team}" from ${plan.file}:`,
    plan.teamAction === 'new'
      ? `  + team ${plan.team} in enclave.yaml: members ${plan.entry.members.join(', ')}${limits.length ? `; ${limits.join(', ')}` : ''}`
      : `  = team ${plan.team} is in enclave.yaml already`,
    ...plan.members.map(memberLine),
  ];
  if (plan.writes.length) lines.push('Files to write:', ...plan.writes.map((w) => `  ${w.before === null ? 'new    ' : 'changed'} ${relative(home, w.path)}`));
  else lines.push('Nothing to change: everything is as the file says.');
  if (plan.conflicts.length) lines.push('Conflicts (nothing is written until they are resolved):', ...plan.conflicts.flatMap((c) => [`  ! ${c.what}`, `    Fix: ${c.fix}`]));
  return lines;
}

function memberLine(m: PlannedMember): string {
  const kind = m.worker ? 'worker' : 'chat group';
  const topics = [m.publish.length ? `publish ${m.publish.join(', ')}` : '', m.subscribe.length ? `subscribe ${m.subscribe.join(', ')}` : ''].filter(Boolean);
  const rights = `hands off to ${m.handOffTo.join(', ') || 'nobody'}; board read ${m.boardRead.join(', ') || '-'}, write ${m.boardWrite.join(', ') || '-'}${topics.length ? `; ${topics.join(', ')}` : ''}${m.helpers ? '; may start helpers' : ''}`;
  switch (m.action) {
    case 'create':
      // The file may come from anywhere: its free-form values (model, chats) reach the terminal without escapes or bidi controls.
      return `  + group ${m.name} (${kind}, ${m.model ? `model ${displayText(m.model, 120)}` : 'default model'}): ${rights}\n      ${displayText(m.grants ?? '', 2000)}`;
    case 'join':
      return `  ~ group ${m.name} (existing ${kind}) gets its team rights: ${rights}`;
    case 'joined':
      return `  = group ${m.name} (existing ${kind}) has these rights already`;
    case 'same':
      return `  = group ${m.name} is already as in the file`;
    case 'conflict':
      return `  ! group ${m.name} exists with other settings (see the conflicts below)`;
  }
}

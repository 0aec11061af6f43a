import type Docker from 'dockerode';
import type { Config } from '../config/load.js';
import type { HomePaths } from '../paths.js';

export type CheckStatus = 'ok' | 'problem' | 'skipped';

/** One line of the doctor's report. */
export interface CheckResult {
  /** The check's id (--skip takes it); several results may share one. */
  check: string;
  status: CheckStatus;
  /** What was found, in a sentence. */
  summary: string;
  /** What to do about a problem (or why it was skipped). */
  fix?: string;
}

/** What the checks read; tests plant problems through it. */
export interface DoctorEnv {
  paths: HomePaths;
  env: NodeJS.ProcessEnv;
  nodeVersion: string;
  docker: () => Docker;
  /** The tag the current sources build (src/container/image.ts). */
  agentImageTag: () => Promise<string>;
  freeBytes: (path: string) => number;
  /** The configuration, or the error that kept it from loading. */
  config: Config | Error;
  secret: (name: string) => string | undefined;
  /** Why the vault cannot be opened, when it cannot. */
  vaultError?: Error;
}

export interface DoctorCheck {
  id: string;
  /** What it checks, for --help and the README. */
  title: string;
  run(env: DoctorEnv): Promise<CheckResult[]>;
}

export const ok = (check: string, summary: string): CheckResult => ({ check, status: 'ok', summary });
export const problem = (check: string, summary: string, fix: string): CheckResult => ({ check, status: 'problem', summary, fix });
export const skipped = (check: string, summary: string, fix?: string): CheckResult => ({ check, status: 'skipped', summary, fix });

/** The loaded configuration, or a skip line naming the check it depends on. */
export function needConfig(env: DoctorEnv, check: string): Config | CheckResult {
  return env.config instanceof Error ? skipped(check, 'not checked: the configuration does not load', 'fix the config problem above first') : env.config;
}

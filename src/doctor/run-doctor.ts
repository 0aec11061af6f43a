import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { loadConfig, type Config } from '../config/load.js';
import { expectedAgentImageTag } from '../container/image.js';
import { openDatabase } from '../db/database.js';
import { freeBytesAt } from '../db/disk-space.js';
import { homePaths } from '../paths.js';
import { listSecrets, resolveSecret, Vault } from '../vault/vault.js';
import type { CheckResult, DoctorCheck, DoctorEnv } from './check.js';
import { channelsCheck, configCheck, modelsCheck, providersCheck } from './config-checks.js';
import { auditCheck, instanceCheck } from './state-checks.js';
import { diskCheck, dockerCheck, imageCheck, nodeCheck, permissionsCheck } from './system-checks.js';

/** Every check, in the order the report shows them. */
export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  nodeCheck, dockerCheck, imageCheck, diskCheck, permissionsCheck, configCheck, providersCheck, modelsCheck, channelsCheck, auditCheck, instanceCheck,
];

export interface DoctorReport {
  ok: boolean;
  home: string;
  checks: CheckResult[];
}

/** The real machine's facts for ENCLAVE_HOME; `overrides` plant problems in tests. */
export function doctorEnv(home: string, env: NodeJS.ProcessEnv, overrides: Partial<DoctorEnv> = {}): DoctorEnv {
  const paths = homePaths(home);
  const vault = openVault(paths.dataDir, paths.dbFile, env);
  const secret = (name: string) => resolveSecret(name, vault.vault, env);
  let config: Config | Error;
  try {
    config = loadConfig(home, env, (name) => secret(name) !== undefined);
  } catch (err) {
    config = err as Error;
  }
  return {
    paths,
    env,
    nodeVersion: process.versions.node,
    docker: () => new Docker(),
    agentImageTag: () => expectedAgentImageTag(),
    freeBytes: freeBytesAt,
    config,
    secret,
    vaultError: vault.error,
    ...overrides,
  };
}

/** Reads the vault without creating anything: a home with no database has no secrets yet. */
function openVault(dataDir: string, dbFile: string, env: NodeJS.ProcessEnv): { vault?: Vault; error?: Error } {
  if (!existsSync(dbFile)) return {};
  const db = openDatabase(dbFile);
  try {
    // An empty vault is left alone: opening it would write a new key file.
    if (listSecrets(db).length === 0) return {};
    const vault = Vault.open(db, { dataDir, env });
    // Decrypt everything now, so the database can be closed before the network checks run.
    const values = new Map(vault.list().map((s) => [s.name, vault.get(s.name)]));
    return { vault: { get: (name: string) => values.get(name) } as Vault };
  } catch (err) {
    return { error: err as Error };
  } finally {
    db.close();
  }
}

export async function runDoctor(env: DoctorEnv, skip: readonly string[] = []): Promise<DoctorReport> {
  const checks: CheckResult[] = [];
  for (const check of DOCTOR_CHECKS) {
    if (skip.includes(check.id)) continue;
    try {
      checks.push(...(await check.run(env)));
    } catch (err) {
      checks.push({ check: check.id, status: 'problem', summary: `the check itself failed: ${(err as Error).message}`, fix: 'run `npx enclave logs` and report this if it persists' });
    }
  }
  return { ok: checks.every((c) => c.status !== 'problem'), home: env.paths.home, checks };
}

const MARK = { ok: '✓', problem: '✗', skipped: '-' } as const;

/** One line per result, the fix after an arrow. */
export function formatReport(report: DoctorReport): string {
  const lines = report.checks.map((c) => `${MARK[c.status]} ${c.check.padEnd(11)} ${c.summary}${c.fix ? ` — fix: ${c.fix.replace(/\n/g, '\n      ')}` : ''}`);
  const problems = report.checks.filter((c) => c.status === 'problem').length;
  lines.push('', problems === 0 ? `All checks passed for ${report.home}.` : `${problems} problem(s) found for ${report.home}.`);
  return `${lines.join('\n')}\n`;
}

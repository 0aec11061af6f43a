import type { Command } from 'commander';
import { DOCTOR_CHECKS, doctorEnv, formatReport, runDoctor } from '../doctor/run-doctor.js';
import { enclaveHome } from '../paths.js';
import { fail } from './output.js';

interface DoctorFlags {
  json?: boolean;
  skip?: string;
}

/** `enclave doctor`: every check, one line each with its fix; exit 1 on any problem. */
export function registerDoctorCommand(program: Command): void {
  const ids = DOCTOR_CHECKS.map((c) => c.id);
  program
    .command('doctor')
    .description('check the installation, one line each with the fix; exits 1 on any problem')
    .option('--json', 'machine-readable: { ok, home, checks: [{ check, status, summary, fix }] }')
    .option('--skip <checks>', `comma-separated checks to leave out: ${ids.join(', ')}`)
    .addHelpText('after', `\nChecks:\n${DOCTOR_CHECKS.map((c) => `  ${c.id.padEnd(12)} ${c.title}`).join('\n')}\n`)
    .action(async (flags: DoctorFlags) => {
      const skip = (flags.skip ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = skip.filter((s) => !ids.includes(s));
      if (unknown.length > 0) fail(new Error(`unknown check(s) for --skip: ${unknown.join(', ')}; the checks are ${ids.join(', ')}`), 2);
      const report = await runDoctor(doctorEnv(enclaveHome(), process.env), skip);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A temporary ENCLAVE_HOME with this enclave.yaml and these groups (name → group.yaml), removed after the test. */
export function configHome(t: TestContext, enclaveYaml: string, groups: Record<string, string>): string {
  const home = mkdtempSync(join(tmpdir(), 'enc-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  writeFileSync(join(home, 'enclave.yaml'), enclaveYaml);
  for (const [name, yaml] of Object.entries(groups)) {
    mkdirSync(join(home, 'groups', name, 'memory'), { recursive: true });
    writeFileSync(join(home, 'groups', name, 'group.yaml'), yaml);
  }
  return home;
}

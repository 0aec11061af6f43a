import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { packageRoot } from '../../src/paths.js';
import { TeamApplyService } from '../../src/services/team-apply.js';
import { runCli } from '../helpers/cli.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { CliSession } from '../helpers/cli-session.js';

const TEMPLATES = join(packageRoot(), 'groups', 'templates', 'teams');

function freshHome(t: TestContext): { home: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'enc-teamapply-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return { home, env: { PATH: process.env.PATH, ENCLAVE_HOME: home } };
}

// The real CLI (dist/src/cli/main.js) in a child process, on a fresh ENCLAVE_HOME each.
test('both shipped team templates apply with --yes to a fresh home, and the result loads', async (t) => {
  const expected: Record<string, { members: string[]; workers: string[] }> = {
    'household.yaml': { members: ['main', 'researcher', 'planner'], workers: ['researcher', 'planner'] },
    'writing-desk.yaml': { members: ['main', 'editor', 'fact-checker'], workers: ['editor', 'fact-checker'] },
  };
  for (const [file, want] of Object.entries(expected)) {
    const { home, env } = freshHome(t);
    const r = await runCli(['team', 'apply', join(TEMPLATES, file), '--yes'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Applied team [a-z-]+: wrote \d+ file\(s\)\. Enclave uses it from its next start\./);
    const config = loadConfig(home, {});
    const [name, team] = Object.entries(config.enclave.teams)[0]!;
    assert.deepEqual(team.members, want.members, file);
    for (const worker of want.workers) {
      const g = config.groups.get(worker)!;
      assert.deepEqual([g.chats, g.team?.name], [[], name], `${worker} is a worker of ${name}`);
      assert.match(readFileSync(join(g.memoryDir, 'MEMORY.md'), 'utf8'), new RegExp(`## Role in team ${name}\\n\\nYou are the `));
    }
    assert.ok(config.groups.get('main')!.team?.acl.handOffTo.length, 'main may hand work to the team');
    const shown = await runCli(['team', 'show', name], env);
    assert.equal(shown.code, 0, shown.stderr);
    for (const worker of want.workers) assert.match(shown.stdout, new RegExp(`${worker} \\(worker, `));
  }
});

test('without --yes it shows the plan and asks; only y writes', async (t) => {
  const { home, env } = freshHome(t);
  const household = join(TEMPLATES, 'household.yaml');
  const no = new CliSession(['team', 'apply', household], env);
  await no.waitForOutput('Apply these changes? [y/N] ');
  assert.match(no.stdout, /\+ group researcher \(worker, default model\)[\s\S]*Files to write:\n {2}changed groups\/main\/group\.yaml/);
  no.answer('n');
  assert.equal(await no.exited, 0);
  assert.match(no.stdout, /Nothing was written\./);
  assert.equal(existsSync(join(home, 'groups', 'researcher')), false);
  assert.doesNotMatch(readFileSync(join(home, 'enclave.yaml'), 'utf8'), /household/);

  const ended = new CliSession(['team', 'apply', household], env);
  await ended.waitForOutput('[y/N]');
  ended.endInput();
  assert.equal(await ended.exited, 0);
  assert.equal(existsSync(join(home, 'groups', 'researcher')), false, 'no answer writes nothing');

  const yes = new CliSession(['team', 'apply', household], env);
  await yes.waitForOutput('[y/N]');
  yes.answer('y');
  assert.equal(await yes.exited, 0, yes.stderr);
  assert.deepEqual(loadConfig(home, {}).enclave.teams.household?.members, ['main', 'researcher', 'planner']);
});

test('a bad file and a conflict fail with the file, line and fix, and write nothing', async (t) => {
  const { home, env } = freshHome(t);
  const bad = join(home, 'bad.yaml');
  writeFileSync(bad, 'name: trip\nmembers:\n  scout:\n    chats: []\n    tools: [teleport]\n');
  const r = await runCli(['team', 'apply', bad, '--yes'], env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^enclave: configuration error in ${bad}:5: members\\.scout\\.tools\\.0: .*Fix: `));

  assert.equal((await runCli(['team', 'apply', join(TEMPLATES, 'household.yaml'), '--yes'], env)).code, 0);
  const before = readFileSync(join(home, 'enclave.yaml'), 'utf8');
  const clash = await runCli(['team', 'apply', join(TEMPLATES, 'writing-desk.yaml'), '--yes'], env);
  assert.equal(clash.code, 1);
  assert.match(clash.stdout, /Conflicts \(nothing is written until they are resolved\):\n {2}! group "main" is already in team "household" \(enclave\.yaml:\d+\)\n {4}Fix: a group is in one team only/);
  assert.match(clash.stderr, /nothing was written: resolve the 2 conflicts above/);
  assert.equal(readFileSync(join(home, 'enclave.yaml'), 'utf8'), before);
  assert.equal(existsSync(join(home, 'groups', 'editor')), false);
});

// No Docker: the host runs its agents in this process (test/helpers/in-process-runtime.ts).
test('a running host picks up an applied team without a restart: /team in the chat shows it', async (t) => {
  const h = await startHarness({ start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  assert.match((await h.say('main', '/team')).replies[0]!, /^This group is in no agent team/);
  const service = new TeamApplyService({ config: () => h.app.config, audit: h.app.audit, reloadHost: async () => (await h.app.reloadGroups(), true) });
  const applied = await service.apply(service.plan(join(TEMPLATES, 'household.yaml')), 'cli');
  assert.equal(applied.hostReloaded, true);
  const shown = (await h.say('main', '/team')).replies[0]!;
  assert.match(shown, /^Team household: maxDepth 3, maxChainUsd 0.5/);
  assert.match(shown, /\n {2}main \(chat group, model fake-model\): hands off to researcher, planner/);
  assert.match(shown, /\n {2}researcher \(worker, .*\): hands off to planner; board read trip\/\*, write trip\/research\/\*/);
  assert.match(shown, /\nNo tasks in flight\.$/);
  assert.ok(h.app.config.groups.get('main')!.tools.includes('ask_agent'), 'main\'s next turn gets the team tools');
});

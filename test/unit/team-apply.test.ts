import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { ConfigError } from '../../src/config/errors.js';
import { LiveConfig } from '../../src/config/live-config.js';
import { loadConfig, seedHome } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/database.js';
import { packageRoot } from '../../src/paths.js';
import { TeamApplyService, teamApplyPlanLines } from '../../src/services/team-apply.js';

const ENCLAVE_YAML = `# my own settings, keep this
prices:
  gpt-4o-mini: { input: 0.15, output: 0.6 } # the cheap one
# the team of the kids
teams:
  kids: { members: [homework] }
`;

const TEAM_FILE = `name: trip
maxChainUsd: 0.25
members:
  main:
    existing: true
    team:
      handOffTo: [scout]
  scout:
    chats: []
    # the scout reads the web
    tools: [web_fetch]
    webAllowlist: [en.wikivoyage.org]
    budget: { dailyUsd: 0.2 }
    team: { handOffTo: [main], board: { read: ['trip/*'], write: ['trip/scout/*'] } }
    role: |
      You scout places.
`;

function home(t: TestContext, teamFile = TEAM_FILE) {
  const dir = mkdtempSync(join(tmpdir(), 'enc-teamapply-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  seedHome(dir);
  writeFileSync(join(dir, 'enclave.yaml'), ENCLAVE_YAML);
  mkdirSync(join(dir, 'groups', 'homework', 'memory'), { recursive: true });
  writeFileSync(join(dir, 'groups', 'homework', 'group.yaml'), 'chats: [local:homework]\n');
  const file = join(dir, 'trip.yaml');
  writeFileSync(file, teamFile);
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  const audit = new AuditLog(db, () => 0);
  const live = new LiveConfig(loadConfig(dir, {}));
  let reloads = 0;
  const service = new TeamApplyService({
    config: live.get,
    audit,
    reloadHost: async () => {
      live.reloadGroups();
      reloads++;
      return true;
    },
  });
  return { dir, file, audit, live, service, reloads: () => reloads };
}

/** Every file under the home with its text, to prove a step changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

test('the plan lists the new team, the new worker and the existing group\'s rights, and writes nothing', (t) => {
  const h = home(t);
  const before = snapshot(h.dir);
  const plan = h.service.plan(h.file);
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(plan.members.map((m) => [m.name, m.action, m.worker]), [['main', 'join', false], ['scout', 'create', true]]);
  const lines = teamApplyPlanLines(plan, h.dir).join('\n');
  assert.match(lines, /\+ team trip in enclave.yaml: members main, scout; maxChainUsd 0.25/);
  assert.match(lines, /~ group main \(existing chat group\) gets its team rights: hands off to scout/);
  assert.match(lines, /\+ group scout \(worker, default model\): hands off to main; board read trip\/\*, write trip\/scout\/\*/);
  assert.match(lines, /changed groups\/main\/group.yaml\n {2}new {5}groups\/scout\/group.yaml\n {2}new {5}groups\/scout\/memory\/MEMORY.md\n {2}changed enclave.yaml/);
  assert.deepEqual(snapshot(h.dir), before, 'planning wrote nothing');
});

test('apply writes a config that loads, keeps enclave.yaml\'s comments, and a running host picks it up', async (t) => {
  const h = home(t);
  const mainBefore = readFileSync(join(h.dir, 'groups', 'main', 'group.yaml'), 'utf8');
  const applied = await h.service.apply(h.service.plan(h.file), 'cli');
  assert.equal(applied.hostReloaded, true);
  assert.equal(h.reloads(), 1);

  const config = loadConfig(h.dir, {});
  assert.deepEqual(config.enclave.teams.trip!.members, ['main', 'scout']);
  assert.equal(config.enclave.teams.trip!.maxChainUsd, 0.25);
  assert.deepEqual(config.enclave.teams.kids!.members, ['homework'], 'the other team stays');
  const scout = config.groups.get('scout')!;
  assert.deepEqual([scout.chats, scout.webAllowlist, scout.budget], [[], ['en.wikivoyage.org'], { dailyUsd: 0.2 }]);
  assert.ok(scout.tools.includes('web_fetch') && scout.tools.includes('ask_agent') && !scout.tools.includes('send_message'), scout.tools.join());
  const main = config.groups.get('main')!.team;
  assert.deepEqual([main?.name, main?.acl.handOffTo, main?.acl.board], ['trip', ['scout'], { read: [], write: [] }]);
  assert.match(readFileSync(join(h.dir, 'groups', 'scout', 'memory', 'MEMORY.md'), 'utf8'), /^# Memory of scout\n[\s\S]*## Role in team trip\n\nYou scout places\.\n$/);
  assert.match(readFileSync(join(h.dir, 'groups', 'scout', 'group.yaml'), 'utf8'), /# the scout reads the web\ntools: \[ web_fetch \]/, 'the member\'s comments go with it');

  const yaml = readFileSync(join(h.dir, 'enclave.yaml'), 'utf8');
  assert.ok(yaml.startsWith('# my own settings, keep this\nprices:\n'), yaml);
  assert.match(yaml, /gpt-4o-mini: \{ input: 0.15, output: 0.6 \} # the cheap one/);
  assert.match(yaml, /# the team of the kids\nteams:\n {2}kids: \{ members: \[ ?homework ?\] \}\n {2}# made by `enclave team apply` from trip.yaml\n {2}trip: \{ members: \[ main, scout \], maxChainUsd: 0.25 \}\n$/);
  const mainAfter = readFileSync(join(h.dir, 'groups', 'main', 'group.yaml'), 'utf8');
  assert.ok(mainAfter.startsWith(mainBefore.split('\n# model')[0]!), 'main keeps its own lines and comments');
  assert.match(mainAfter, /# Rights in team "trip"/);

  // The running host's snapshot has the new team and group without a restart.
  assert.deepEqual(h.live.get().enclave.teams.trip!.members, ['main', 'scout']);
  assert.equal(h.live.get().groups.get('scout')!.team?.name, 'trip');
  assert.deepEqual(
    h.audit.tail(10).map((r) => [r.kind, r.group ?? null, r.detail.action]),
    [['group_change', 'main', 'team_rights'], ['group_change', 'scout', 'team_apply'], ['team', null, 'team_created']],
  );
  assert.ok(!readdirSync(h.dir).some((f) => f.endsWith('.tmp')) && !readdirSync(join(h.dir, 'groups', 'main')).some((f) => f.endsWith('.tmp')), 'no temporary files left');

  const again = h.service.plan(h.file);
  assert.deepEqual([again.writes.length, again.conflicts.length, again.teamAction], [0, 0, 'same'], 'applying the same file again changes nothing');
  assert.deepEqual((await h.service.apply(again, 'cli')).written, []);
});

test('an existing group with other files is a conflict that names the file and the fix; nothing is written', async (t) => {
  const h = home(t);
  mkdirSync(join(h.dir, 'groups', 'scout', 'memory'), { recursive: true });
  writeFileSync(join(h.dir, 'groups', 'scout', 'group.yaml'), 'chats: []\n');
  writeFileSync(join(h.dir, 'groups', 'scout', 'memory', 'MEMORY.md'), 'my notes\n');
  const before = snapshot(h.dir);
  const plan = h.service.plan(h.file);
  assert.deepEqual(plan.conflicts.map((c) => c.what), ['groups/scout/group.yaml exists with other content', 'groups/scout/memory/MEMORY.md exists with other content']);
  assert.match(plan.conflicts[0]!.fix, /mark members.scout `existing: true` in trip.yaml, rename the member, or move the group away first \(enclave groups remove scout\)/);
  assert.match(teamApplyPlanLines(plan, h.dir).join('\n'), /! group scout exists with other settings[\s\S]*Conflicts \(nothing is written until they are resolved\):\n {2}! groups\/scout\/group.yaml/);
  await assert.rejects(h.service.apply(plan, 'cli'), /nothing was written: 2 conflict/);
  assert.deepEqual(snapshot(h.dir), before);
});

test('a group in another team, a team of that name with other settings, and a missing existing group are conflicts', (t) => {
  const h = home(t, TEAM_FILE.replace('  scout:\n', '  homework:\n    existing: true\n  ghost:\n    existing: true\n  scout:\n'));
  assert.deepEqual(h.service.plan(h.file).conflicts.map((c) => c.what), [
    'group "homework" is already in team "kids" (enclave.yaml:6)',
    'members.ghost is marked existing, but there is no group "ghost"',
  ]);
  const kids = join(h.dir, 'kids.yaml');
  writeFileSync(kids, 'name: kids\nmaxDepth: 2\nmembers:\n  homework: { existing: true }\n');
  const plan = h.service.plan(kids);
  assert.deepEqual(plan.conflicts.map((c) => c.what), ['team "kids" already exists in enclave.yaml:6 with other settings']);
  assert.match(plan.conflicts[0]!.fix, /remove it from enclave.yaml, or set the same members and limits in kids.yaml, or pick another name/);
  writeFileSync(kids, 'name: kids\nmembers:\n  homework: { existing: true }\n');
  assert.deepEqual(h.service.plan(kids).conflicts, [], 'the same team again is no conflict');
});

test('a bad team file names the file, the line and the fix', (t) => {
  const cases: [string, RegExp][] = [
    [TEAM_FILE.replace('    budget: { dailyUsd: 0.2 }\n', '    budget: { dailyUsd: 0.2 }\n    colour: blue\n'), /trip\.yaml:14: members\.scout\.colour: .*Fix: remove or rename the unknown key/],
    [TEAM_FILE.replace('handOffTo: [main]', 'handOffTo: [main, judge]'), /trip\.yaml:14: members\.scout\.team\.handOffTo: "judge" is not a member of this team\. Fix: list members only \(main, scout\), or add "judge" under members/],
    [TEAM_FILE.replace('    existing: true\n', '    existing: true\n    model: gpt-4o\n'), /trip\.yaml:6: members\.main is an existing group, so model cannot be set here\. Fix: edit groups\/main\/group\.yaml/],
    [TEAM_FILE.replace('maxChainUsd: 0.25', 'maxChainUsd: [0.25'), /trip\.yaml:\d+: invalid YAML/],
    [TEAM_FILE.replace('  scout:\n', '  global:\n').replace(/\[main\]/, '[global]').replace('[scout]', '[global]'), /trip\.yaml:8: "global" cannot be a member name/],
    [TEAM_FILE.replace('maxChainUsd: 0.25', 'maxChainUsd: -1'), /trip\.yaml:2: maxChainUsd: .*Fix:/],
  ];
  for (const [text, error] of cases) {
    const h = home(t, text);
    assert.throws(() => h.service.plan(h.file), (err: unknown) => err instanceof ConfigError && error.test(err.message), `expected ${String(error)}`);
  }
});

test('apply refuses a plan whose files changed since, and puts every file back when the result would not load', async (t) => {
  const h = home(t);
  const stale = h.service.plan(h.file);
  writeFileSync(join(h.dir, 'enclave.yaml'), `${ENCLAVE_YAML}# edited meanwhile\n`);
  await assert.rejects(h.service.apply(stale, 'cli'), /nothing was written: enclave.yaml changed since the plan was made/);

  // A skill that does not exist passes the file's schema but not loading: the apply is undone.
  const broken = home(t, TEAM_FILE.replace('    tools: [web_fetch]\n', '    tools: [web_fetch]\n    skills: [no-such-skill]\n'));
  const before = snapshot(broken.dir);
  await assert.rejects(broken.service.apply(broken.service.plan(broken.file), 'cli'), /nothing was changed: the team would not load \(.*no-such-skill/);
  assert.deepEqual(snapshot(broken.dir), before, 'enclave.yaml and main\'s group.yaml are back as they were; the new folder is gone');
  assert.equal(existsSync(join(broken.dir, 'groups', 'scout')), false);
  assert.equal(broken.reloads(), 0);
  assert.equal(broken.audit.tail(5).length, 0, 'nothing audited for an apply that did not happen');
});

test('the team file example in the README is a valid team file', (t) => {
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n### Team files and templates\n'));
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(example?.includes('existing: true'), 'the section has the example');
  const h = home(t, example);
  const plan = h.service.plan(h.file);
  assert.deepEqual([plan.team, plan.conflicts, plan.members.map((m) => m.action)], ['household', [], ['join', 'create']]);
});

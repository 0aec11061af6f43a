import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configHome } from '../helpers/config-home.js';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const home = configHome;

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return assert.fail('expected a ConfigError');
}

const TEAM = 'teams:\n  household:\n    members: [main, researcher]\n    maxDepth: 2\n    maxChainUsd: 0.25\n';

test('a team: members get their team, default limits, and only the team tools their rights allow', (t) => {
  const dir = home(t, TEAM, {
    main: 'chats: [local:main]\nteam:\n  handOffTo: [researcher]\n  board: { read: [trip/*] }\n',
    researcher: 'chats: []\nteam:\n  board: { read: [trip/*], write: [trip/research/*] }\n',
    loner: 'chats: [local:loner]\n',
  });
  const cfg = loadConfig(dir, {});
  const team = cfg.enclave.teams.household!;
  assert.deepEqual([team.maxDepth, team.maxChainUsd, team.maxHelpers, team.maxFanOut, team.askTimeoutSeconds], [2, 0.25, 2, 4, 120]);
  const main = cfg.groups.get('main')!;
  const researcher = cfg.groups.get('researcher')!;
  assert.equal(main.team?.name, 'household');
  assert.deepEqual(main.tools, ['send_message', 'send_file', 'schedule_task', 'list_tasks', 'cancel_task', 'complete_task', 'fail_task', 'ask_agent', 'hand_off', 'board_read']);
  assert.deepEqual(researcher.tools, ['complete_task', 'fail_task', 'board_read', 'board_write', 'board_delete'], 'a worker has no chat tools and cannot hand off');
  assert.deepEqual(researcher.team?.acl.handOffTo, [], 'default deny');
  assert.equal(cfg.groups.get('loner')!.team, undefined);
  assert.ok(!cfg.groups.get('loner')!.tools.includes('ask_agent'));
});

test('handOffTo outside the team is refused with the group.yaml line and a fix', (t) => {
  const dir = home(t, TEAM, {
    main: 'chats: [local:main]\nteam:\n  handOffTo:\n    - researcher\n    - outsider\n',
    researcher: 'chats: []\n',
    outsider: 'chats: []\n',
  });
  const err = configError(() => loadConfig(dir, {}));
  assert.ok(err.file.endsWith(join('groups', 'main', 'group.yaml')), err.file);
  assert.equal(err.line, 5);
  assert.match(err.problem, /"outsider" is not a member of team "household"/);
  assert.match(err.fix, /list members of "household" only \(main, researcher\)/);
});

test('a bare * or a wildcard in the middle of a board pattern is refused at its line', (t) => {
  for (const pattern of ["'*'", "'trip/*/x'", "'*/plan'"]) {
    const dir = home(t, TEAM, { main: `chats: [local:main]\nteam:\n  board:\n    read: [${pattern}]\n`, researcher: 'chats: []\n' });
    const err = configError(() => loadConfig(dir, {}));
    assert.equal(err.line, 4, pattern);
    assert.match(err.problem, /a bare \* is not allowed/, pattern);
  }
});

test('a member that is no group, a group in two teams, rights without a team, and handing off to itself are each refused', (t) => {
  let err = configError(() => loadConfig(home(t, TEAM, { main: 'chats: [local:main]\n' }), {}));
  assert.ok(err.file.endsWith('enclave.yaml'));
  assert.equal(err.line, 3);
  assert.match(err.problem, /member "researcher" is not a group/);
  assert.match(err.fix, /create groups\/researcher\/group.yaml/);

  err = configError(() => loadConfig(home(t, `${TEAM}  other:\n    members: [main]\n`, { main: 'chats: [local:main]\n', researcher: 'chats: []\n' }), {}));
  assert.match(err.problem, /group "main" is in two teams/);

  err = configError(() => loadConfig(home(t, '', { main: 'chats: [local:main]\nteam: { handOffTo: [] }\n' }), {}));
  assert.equal(err.line, 2);
  assert.match(err.problem, /has team rights but is in no team/);

  err = configError(() => loadConfig(home(t, TEAM, { main: 'chats: [local:main]\nteam: { handOffTo: [main] }\n', researcher: 'chats: []\n' }), {}));
  assert.match(err.problem, /names the group itself/);
});

test('team.helpers: spawn_helper is offered only to a member whose group.yaml says helpers: true (default deny); anything but a boolean is a config error', (t) => {
  const dir = home(t, TEAM, { main: 'chats: [local:main]\nteam:\n  helpers: true\n', researcher: 'chats: []\n' });
  const cfg = loadConfig(dir, {});
  assert.ok(cfg.groups.get('main')!.tools.includes('spawn_helper'));
  assert.ok(!cfg.groups.get('researcher')!.tools.includes('spawn_helper'), 'no team.helpers: no helpers');
  const bad = home(t, TEAM, { main: 'chats: [local:main]\nteam:\n  helpers: yes please\n', researcher: 'chats: []\n' });
  const err = configError(() => loadConfig(bad, {}));
  assert.ok(err.file.endsWith(join('groups', 'main', 'group.yaml')), err.file);
  assert.match(`${err.problem} ${err.fix ?? ''}`, /helpers/);
});

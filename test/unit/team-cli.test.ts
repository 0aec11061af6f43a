import assert from 'node:assert/strict';
import { configHome } from '../helpers/config-home.js';
import { test } from 'node:test';
import { runTeam } from '../../src/cli/team-command.js';
import { loadConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/database.js';
import { BoardStore } from '../../src/teams/board-store.js';
import { TeamTaskStore } from '../../src/teams/team-store.js';

test('enclave team list, show, tasks and board read the home\'s config and database', async (t) => {
  const home = configHome(t, 'teams:\n  trip: { members: [main, researcher], maxChainUsd: 0.25 }\n', {
    main: 'chats: [local:main]\nteam: { handOffTo: [researcher] }\n',
    researcher: 'chats: []\nteam: { board: { write: [trip/*] } }\n',
  });
  const db = openDatabase(loadConfig(home, {}).paths.dbFile);
  const store = new TeamTaskStore(db, () => 0);
  const chain = store.createChain({ team: 'trip', originGroup: 'main', limitMicros: 250_000 });
  const task = store.create({ chainId: chain.id, team: 'trip', kind: 'hand_off', from: 'main', to: 'researcher', parentTask: null, fromTurn: 't', depth: 1, visited: ['main', 'researcher'], title: 'Hotels', brief: 'b' });
  new BoardStore(db, () => 0).write('trip', 'trip/plan', 'June', 'researcher');
  db.close();

  const run = async (action: Parameters<typeof runTeam>[0]) => {
    let out = '';
    await runTeam(action, { home, out: { write: (c: string) => ((out += c), true) } as unknown as NodeJS.WritableStream });
    return out;
  };
  assert.match(await run({ verb: 'list' }), /^trip: main, researcher \(maxDepth 3, maxChainUsd 0.25, maxFanOut 4\)$/m);
  const show = await run({ verb: 'show', team: 'trip' });
  assert.match(show, /main \(chats local:main, model .*\): hands off to researcher/);
  assert.match(show, /researcher \(worker, .*\): hands off to nobody; board read -, write trip\/\*/);
  assert.match(await run({ verb: 'tasks', all: false }), new RegExp(`^#${task.id} trip: main → researcher hand_off "Hotels" queued \\(depth 1, chain ${chain.id.slice(0, 8)} \\$0\\.00/\\$0\\.25\\)$`, 'm'));
  assert.match(await run({ verb: 'board', team: 'trip' }), /^trip\/plan v1 by researcher: June$/m);
});

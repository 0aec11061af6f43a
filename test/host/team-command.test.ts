import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import { Commands } from '../../src/core/commands/commands.js';
import { parseCommand } from '../../src/core/commands/parse.js';
import { teamChatCommand } from '../../src/core/commands/team-chat-command.js';
import { teamBoardLines, teamTaskLines } from '../../src/teams/team-view.js';
import { teamHost } from '../helpers/team-host.js';
import { waitFor } from '../helpers/wait.js';

const ENCLAVE = 'teams:\n  trip: { members: [main, researcher], maxChainUsd: 0.5 }\n  desk: { members: [editor, checker] }\n';
const GROUPS = {
  main: 'chats: [telegram:-100]\nteam: { handOffTo: [researcher], board: { read: [trip/*] } }\n',
  researcher: 'chats: []\nteam: { board: { read: [trip/*], write: [trip/research/*] } }\n',
  editor: 'chats: [telegram:-200]\nteam: { handOffTo: [checker] }\n',
  checker: 'chats: []\n',
  solo: 'chats: [telegram:-300]\n',
};
/** An agent-written title with a bidi override, an escape sequence, a newline and a zero-width joiner. */
const HOSTILE_TITLE = 'Hotels\u202Eevil\u001b[31m\nred\u200Dtext';
const HIDDEN = ['\u202E', '\u200D', '\u001b'];

// The real team system, group queue, dispatcher and SQLite (test/helpers/team-host.ts); /team behind the real command registry.
test('/team shows the chat\'s team and tasks in flight; only the owner cancels, and only tasks of this team', async (t) => {
  const h = teamHost(t, { enclaveYaml: ENCLAVE, groups: GROUPS });
  const commands = new Commands([teamChatCommand({ config: () => h.config, service: h.teams.service, store: h.teams.store })], {
    audit: h.audit,
    notices: new RefusalNotices(h.db, () => 0),
  });
  const say = (group: string, text: string, owner: boolean) => {
    const chatId = h.config.groups.get(group)!.chats[0]!.split(':')[1]!;
    const msg: InboundMessage = {
      channel: 'telegram', chatId, platformId: text, senderId: owner ? '1' : '2', senderName: 'A', text, isDirect: false,
      mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0,
    };
    return commands.run(parseCommand(text)!, { msg, group: h.config.groups.get(group), owner, identity: `telegram:${msg.senderId}` });
  };

  // main hands work to the researcher, whose turn runs until it is stopped.
  let researcherStarted = false;
  h.agent('researcher', async () => {
    researcherStarted = true;
    return new Promise<never>(() => undefined);
  });
  h.chat('main', async ({ tool }) => {
    const r = await tool('hand_off', { to: 'researcher', title: HOSTILE_TITLE, brief: 'find hotels' });
    assert.ok(r.ok, r.error);
    return { reply: 'asked the researcher' };
  });
  const task = await waitFor('the researcher working on the task', () => researcherStarted && h.teams.store.list({ team: 'trip' }).find((x) => x.state === 'running'));
  // A task of the other team, to cancel from the wrong chat.
  const deskChain = h.teams.store.createChain({ team: 'desk', originGroup: 'editor', limitMicros: 500_000 });
  const deskTask = h.teams.store.create({ chainId: deskChain.id, team: 'desk', kind: 'ask', from: 'editor', to: 'checker', parentTask: null, fromTurn: 'x', depth: 1, visited: ['editor', 'checker'], title: 'Is it true?', brief: 'b' });

  const shown = (await say('main', '/team', false))!;
  assert.match(shown, /^Team trip: maxDepth 3, maxChainUsd 0.5/);
  assert.match(shown, /\n {2}main \(chat group, model .*\): hands off to researcher; board read trip\/\*, write -/);
  assert.doesNotMatch(shown, /telegram:/, 'the chat view names no member\'s chat ids (they name people\'s DMs)');
  assert.match(shown, /\n {2}researcher \(worker, model .*\): hands off to nobody; board read trip\/\*, write trip\/research\/\*/);
  assert.match(shown, new RegExp(`\\nTasks in flight \\(/team cancel <id> stops one and the rest of its chain\\):\\n {2}#${task.id} main → researcher hand_off "Hotels evil \\[31m red text" running \\(depth 1, chain ${task.chainId.slice(0, 8)} \\$0\\.00/\\$0\\.50\\)$`));
  assert.ok(!HIDDEN.some((c) => shown.includes(c)), 'no bidi override, zero-width or escape character reaches the chat');
  assert.doesNotMatch(shown, /Is it true/, 'another team\'s tasks are not shown');
  assert.equal(shown.split('\n').length, 5, 'the title cannot add lines');

  // Not the owner: the one owner check refuses and audits it; nothing is cancelled.
  assert.equal(await say('main', `/team cancel ${task.id}`, false), 'Only the owner can use /team cancel.');
  const denial = h.audit.tail(10, { kind: 'denial' }).at(-1);
  assert.deepEqual([denial?.actor, denial?.group, denial?.detail.reason, denial?.detail.command], ['telegram:2', 'main', 'owner_only_command', 'team']);
  assert.equal(h.teams.store.get(task.id)!.state, 'running');

  // The owner: another team's task and a made-up one are both "no such task".
  assert.equal(await say('main', `/team cancel ${deskTask.id}`, true), `There is no task #${deskTask.id} in team trip (see /team).`);
  assert.equal(h.teams.store.get(deskTask.id)!.state, 'queued', 'the other team\'s task is untouched');
  assert.equal(await say('main', '/team cancel 9999', true), 'There is no task #9999 in team trip (see /team).');
  assert.equal(await say('main', '/team cancel soon', true), 'There is no task #soon in team trip (see /team).');

  assert.equal(await say('main', `/team cancel #${task.id}`, true), `Cancelled #${task.id} (task #${task.id} and the open work of its chain).`);
  assert.equal(h.teams.store.get(task.id)!.state, 'cancelled');
  assert.deepEqual(h.aborted, ['researcher'], 'the researcher\'s running turn was stopped');
  const cancel = h.audit.tail(20, { kind: 'team' }).find((r) => r.detail.action === 'cancel');
  assert.deepEqual([cancel?.actor, cancel?.detail.task], ['telegram:1', task.id]);
  assert.match((await say('main', '/team', false))!, /\nNo tasks in flight\.$/);
  assert.equal(await say('main', `/team cancel ${task.id}`, true), `Task #${task.id} had already finished; its chain takes no new work.`);

  assert.match((await say('solo', '/team', true))!, /^This group is in no agent team\. `enclave team apply <file>` creates one/);
  assert.match((await say('main', '/team frobnicate', true))!, /^Usage: \/team shows the team/);

  // The CLI's views share the same clean-up: titles and board values are agent-written.
  const cli = teamTaskLines(h.teams.store, { all: true }).join('\n');
  assert.match(cli, /"Hotels evil \[31m red text" cancelled/);
  h.teams.board.write('trip', 'trip/research/x', 'line one\u202E\nline two\u0007', 'researcher');
  assert.deepEqual(teamBoardLines(h.teams.board, 'trip'), ['trip/research/x v1 by researcher: line one line two']);
  assert.ok(!HIDDEN.some((c) => cli.includes(c)));
});

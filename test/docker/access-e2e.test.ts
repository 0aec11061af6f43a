import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPairApprove } from '../../src/cli/pair-command.js';
import { FakeTelegram, type FakeChat, type FakeUser } from '../fakes/fake-telegram.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarnessBeside, type Harness } from '../helpers/harness.js';
import { chatMessagesOf, lastUserMessageOf } from '../helpers/model-messages.js';
import { dmWith, sentTo, telegramEnclaveYaml, telegramSecrets, waitForOutboxDrained, waitForSentTo, waitForShownAs } from '../helpers/telegram-host.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

const person = (id: number, first_name: string, username?: string): FakeUser => ({ id, is_bot: false, first_name, ...(username ? { username } : {}) });
const OWNER = person(9001, 'Olivia', 'olivia_owner');
const BOB = person(4202, 'Bob');
const CAROL = person(4203, 'Carol');
const DAVE = person(4204, 'Dave');
const EVE = person(4205, 'Eve');
const TEAM: FakeChat = { id: -100777, type: 'supergroup', title: 'Team' };
const LOBBY: FakeChat = { id: -100888, type: 'supergroup', title: 'Lobby' };
const HOUR = 60 * 60 * 1000;

const codeIn = (text: string): string => /pairing code is ([A-Z2-9]{8})\b/.exec(text)?.[1] ?? assert.fail(`no pairing code in: ${text}`);

function denialsBy(h: Harness, who: FakeUser) {
  return h.app.audit.tail(1000, { kind: 'denial' }).filter((r) => r.actor === `telegram:${who.id}`);
}

function storedStatuses(h: Harness, chat: FakeChat): string[] {
  const rows = h.app.db.prepare("SELECT status FROM messages WHERE channel = 'telegram' AND chat_id = ? ORDER BY id").all(String(chat.id)) as { status: string }[];
  return rows.map((r) => r.status);
}

function pairingStatus(h: Harness, who: FakeUser): string | undefined {
  const row = h.app.db.prepare("SELECT status FROM pairings WHERE channel = 'telegram' AND sender_id = ? ORDER BY id DESC LIMIT 1").get(String(who.id)) as { status: string } | undefined;
  return row?.status;
}

/** `enclave pair approve <code>` as the CLI runs it, against this home, with what it prints. */
function pairApproveFromCli(home: string, code: string): string {
  const previousHome = process.env.ENCLAVE_HOME;
  const write = process.stdout.write;
  let printed = '';
  process.env.ENCLAVE_HOME = home;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    printed += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    runPairApprove(code);
  } finally {
    process.stdout.write = write;
    if (previousHome === undefined) delete process.env.ENCLAVE_HOME;
    else process.env.ENCLAVE_HOME = previousHome;
  }
  return printed;
}

test('a stranger\'s DM gets a code and never reaches the agent; after approval it does; a non-owner\'s /register, /budget set, /approve are refused and audited', { skip }, async (t) => {
  const fake = await FakeTelegram.start();
  let clockShift = 0;
  const h = await startHarnessBeside(t, fake, {
    enclaveYaml: telegramEnclaveYaml(fake, `owners: [telegram:${OWNER.id}]`),
    secrets: telegramSecrets(fake),
    groups: {
      main: 'chats: [local:main]\nmodel: fake-model\n',
      bob: `chats: [telegram:${BOB.id}]\nmodel: fake-model\n`,
      carol: `chats: [telegram:${CAROL.id}]\nmodel: fake-model\n`,
      team: `chats: [telegram:${TEAM.id}]\nmodel: fake-model\n`,
    },
    start: { clock: () => Date.now() + clockShift },
  });
  let bobCode = '';

  await t.test('the stranger gets a pairing code that names nobody, and no model is called', async () => {
    fake.pushMessage({ chat: dmWith(BOB), from: BOB, text: 'hello, who are you?' });
    const [reply] = await waitForSentTo(fake, dmWith(BOB));
    bobCode = codeIn(reply!);
    for (const revealing of [String(OWNER.id), OWNER.first_name, OWNER.username!, 'local:', 'telegram:']) {
      assert.ok(!reply!.includes(revealing), `the code reply does not reveal "${revealing}": ${reply}`);
    }
    assert.equal(h.model.requests.length, 0, 'no model call for a stranger');
    assert.deepEqual(storedStatuses(h, dmWith(BOB)), ['refused']);
    assert.equal(h.app.containers.state('bob').state, 'stopped', 'no container was started for the stranger');
    const [denial] = denialsBy(h, BOB);
    assert.equal(denial?.detail.reason, 'pairing_required');
  });

  await t.test('more messages within the hour get no further reply: one message per hour', async () => {
    for (const text of ['are you there?', 'hello??', 'please answer']) fake.pushMessage({ chat: dmWith(BOB), from: BOB, text });
    await waitFor('four denials of the stranger', () => denialsBy(h, BOB).length === 4);
    await waitForOutboxDrained(h.app.db);
    const replies = sentTo(fake, dmWith(BOB));
    assert.equal(replies.length, 1, `only the code, not one reply per message: ${JSON.stringify(replies)}`);
    assert.deepEqual(storedStatuses(h, dmWith(BOB)), ['refused', 'refused', 'refused', 'refused']);
    assert.equal(h.model.requests.length, 0);
  });

  await t.test('after the owner\'s /approve in the local chat, the stranger\'s next DM reaches the agent', async () => {
    const approved = await h.say('main', `/approve ${bobCode.toLowerCase()}`);
    assert.equal(approved.status, 'command');
    assert.match(approved.replies[0]!, /^Approved Bob \(telegram:4202\)/);
    assert.equal(pairingStatus(h, BOB), 'approved');
    const change = h.app.audit.tail(100, { kind: 'access_change' }).at(-1);
    assert.deepEqual([change?.actor, change?.detail.who], ['local:owner', `telegram:${BOB.id}`]);

    h.model.push({ content: 'Hi Bob, nice to meet you.' });
    fake.pushMessage({ chat: dmWith(BOB), from: BOB, text: 'am I in now?' });
    await waitForShownAs(fake, dmWith(BOB), 1, 'Hi Bob, nice to meet you.');
    await waitForOutboxDrained(h.app.db);
    assert.equal(sentTo(fake, dmWith(BOB)).length, 2, 'the code, then one live answer edited to the whole reply');
    assert.equal(h.model.requests.length, 1);
    const request = h.model.requests[0]!;
    assert.equal(lastUserMessageOf(request), 'am I in now?');
    assert.ok(
      !chatMessagesOf(request).some((m) => /who are you|are you there|please answer/.test(m.content ?? '')),
      'messages refused before the approval never reach the agent',
    );
    assert.equal(h.app.containers.state('bob').state, 'running');
  });

  await t.test('approval through `enclave pair approve` admits a stranger the same way', async () => {
    fake.pushMessage({ chat: dmWith(CAROL), from: CAROL, text: 'hi, I am Carol' });
    const [reply] = await waitForSentTo(fake, dmWith(CAROL));
    const code = codeIn(reply!);
    assert.notEqual(code, bobCode);
    assert.equal(pairingStatus(h, CAROL), 'pending');
    const before = h.model.requests.length;

    const printed = pairApproveFromCli(h.home, code);
    assert.match(printed, /^Approved Carol \(telegram:4203\)/);
    assert.equal(pairingStatus(h, CAROL), 'approved');
    const change = h.app.audit.tail(100, { kind: 'access_change' }).at(-1);
    assert.deepEqual([change?.actor, change?.detail.who], ['cli', `telegram:${CAROL.id}`]);

    h.model.push({ content: 'Welcome, Carol.' });
    fake.pushMessage({ chat: dmWith(CAROL), from: CAROL, text: 'now?' });
    await waitForShownAs(fake, dmWith(CAROL), 1, 'Welcome, Carol.');
    assert.equal(h.model.requests.length, before + 1);
    assert.equal(lastUserMessageOf(h.model.requests.at(-1)!), 'now?');
  });

  await t.test('a non-owner\'s /budget set, /approve and /register are refused, audited, and told once an hour', async () => {
    fake.pushMessage({ chat: dmWith(EVE), from: EVE, text: 'let me in' });
    const eveCode = codeIn((await waitForSentTo(fake, dmWith(EVE)))[0]!);
    const modelCalls = h.model.requests.length;

    fake.pushMessage({ chat: TEAM, from: DAVE, text: '/budget set daily 50' });
    fake.pushMessage({ chat: TEAM, from: DAVE, text: `/approve ${eveCode}` });
    fake.pushMessage({ chat: LOBBY, from: DAVE, text: '/register evil' });
    const denials = await waitFor('three denials of Dave', () => {
      const rows = denialsBy(h, DAVE);
      return rows.length === 3 ? rows : undefined;
    });
    assert.deepEqual(
      denials.map((r) => [r.detail.reason, r.detail.command, r.detail.chat]),
      [
        ['owner_only_command', 'budget', `telegram:${TEAM.id}`],
        ['owner_only_command', 'approve', `telegram:${TEAM.id}`],
        ['owner_only_command', 'register', `telegram:${LOBBY.id}`],
      ],
    );
    await waitForOutboxDrained(h.app.db);
    assert.deepEqual(sentTo(fake, TEAM), ['Only the owner can use /budget set.'], 'one refusal message for three refused commands');
    assert.deepEqual(sentTo(fake, LOBBY), []);
    assert.equal(pairingStatus(h, EVE), 'pending', 'Dave could not approve Eve');
    assert.ok(!existsSync(join(h.home, 'groups', 'evil')), 'no group folder was made');
    assert.equal(h.app.config.groups.has('evil'), false);
    assert.deepEqual(h.app.audit.tail(100, { kind: 'budget_change' }), []);
    assert.deepEqual(h.app.audit.tail(100, { kind: 'group_change' }), []);

    fake.pushMessage({ chat: dmWith(BOB), from: BOB, text: '/register bobs' });
    const bobReplies = await waitForSentTo(fake, dmWith(BOB), 3);
    assert.equal(bobReplies[2], 'Only the owner can use /register bobs.', 'an approved person is still not an owner');
    assert.equal(denialsBy(h, BOB).at(-1)?.detail.command, 'register');
    assert.ok(!existsSync(join(h.home, 'groups', 'bobs')));

    clockShift += HOUR + 60_000;
    fake.pushMessage({ chat: TEAM, from: DAVE, text: '/budget set daily 50' });
    const teamReplies = await waitForSentTo(fake, TEAM, 2);
    assert.equal(teamReplies[1], 'Only the owner can use /budget set.', 'an hour later the refusal is told again');
    assert.equal(denialsBy(h, DAVE).length, 4);
    assert.equal(h.model.requests.length, modelCalls, 'no refused command reached a model');
    assert.deepEqual(h.app.audit.verify().ok, true, 'the audit chain is intact, CLI rows included');
  });
});

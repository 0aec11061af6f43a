import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Docker from 'dockerode';
import { ALICE, FakeTelegram, type FakeChat, type FakeUser } from '../fakes/fake-telegram.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarnessBeside, type Harness } from '../helpers/harness.js';
import { systemPromptOf, toolCall, toolResultsOf } from '../helpers/model-messages.js';
import { sentTo, telegramEnclaveYaml, telegramSecrets } from '../helpers/telegram-host.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

const OWNER: FakeUser = { id: 9001, is_bot: false, first_name: 'Olivia' };
const FAM: FakeChat = { id: -5001, type: 'supergroup', title: 'Family' };
const WORK: FakeChat = { id: -5002, type: 'supergroup', title: 'Work' };
const SECRET = `fam-code-word-${Math.random().toString(36).slice(2)}`;

/** Waits for the bot to say exactly this in the chat. */
const waitForReply = (fake: FakeTelegram, chat: FakeChat, text: string) =>
  waitFor(`"${text}" in Telegram chat ${chat.id}`, () => sentTo(fake, chat).includes(text));

async function mountSources(h: Harness, group: string): Promise<Map<string, string>> {
  const id = h.app.containers.state(group).id ?? assert.fail(`${group} has no container`);
  const info = await new Docker().getContainer(id).inspect();
  return new Map(info.Mounts.map((m) => [m.Destination, m.Source]));
}

test('/register creates the group folder; the next triggered message runs in a new container with that group\'s memory only', { skip }, async (t) => {
  const fake = await FakeTelegram.start();
  const h = await startHarnessBeside(t, fake, {
    // Replies are waited for as whole messages here; live replies have tests of their own.
    enclaveYaml: telegramEnclaveYaml(fake, `owners: [telegram:${OWNER.id}]\ndefaults: { model: fake-model }`).replace('    enabled: true\n', '    enabled: true\n    streaming: { mode: off }\n'),
    secrets: telegramSecrets(fake),
    groups: {},
  });
  const famDir = join(h.home, 'groups', 'fam');

  await t.test('an unregistered chat reaches no agent; the owner\'s /register makes it a group with its own folder', async () => {
    fake.pushMessage({ chat: FAM, from: ALICE, text: '@enclave_test_bot are you there?' });
    await waitFor('the not-set-up answer', () => sentTo(fake, FAM).length === 1);
    assert.match(sentTo(fake, FAM)[0]!, /not set up for the assistant yet/);

    fake.pushMessage({ chat: FAM, from: OWNER, text: '/register fam' });
    await waitFor('the registration answer', () => sentTo(fake, FAM).length === 2);
    assert.match(sentTo(fake, FAM)[1]!, /^Registered this chat as group fam\./);
    assert.match(readFileSync(join(famDir, 'group.yaml'), 'utf8'), /^chats: \[telegram:-5001\]$/m);
    assert.match(readFileSync(join(famDir, 'memory', 'MEMORY.md'), 'utf8'), /^# Memory of fam\n/);
    assert.deepEqual(h.app.config.groups.get('fam')?.chats, [`telegram:${FAM.id}`]);
    const change = h.app.audit.tail(10, { kind: 'group_change' }).at(-1);
    assert.deepEqual([change?.group, change?.actor, change?.detail.action], ['fam', `telegram:${OWNER.id}`, 'register']);
    assert.equal(h.model.requests.length, 0, 'neither message reached a model');
    assert.equal(h.app.containers.state('fam').state, 'stopped');
  });

  await t.test('the next mention runs in a new container that sees and writes the group\'s own memory', async () => {
    h.model.push(
      {
        toolCalls: [
          toolCall('write_file', { path: 'secret.txt', content: `${SECRET}\n` }),
          toolCall('write_file', { path: 'MEMORY.md', content: `Code word: ${SECRET}\n`, append: true }),
          toolCall('shell', { command: 'cat /workspace/memory/secret.txt' }),
        ],
      },
      { content: 'Saved.' },
    );
    fake.pushMessage({ chat: FAM, from: ALICE, text: '@enclave_test_bot remember our code word' });
    await waitForReply(fake, FAM, 'Saved.');

    const [first, last] = [h.model.requests.at(-2)!, h.model.requests.at(-1)!];
    assert.match(systemPromptOf(first), /# Memory of fam/, 'the new group\'s MEMORY.md is in its prompt');
    const results = toolResultsOf(last);
    assert.match(results[2]!, new RegExp(`^exit code 0\\n${SECRET}`), 'the group reads its own file from inside its container');
    assert.equal(readFileSync(join(famDir, 'memory', 'secret.txt'), 'utf8'), `${SECRET}\n`);
    assert.equal(h.app.containers.state('fam').state, 'running');
    assert.equal((await mountSources(h, 'fam')).get('/workspace/memory'), join(famDir, 'memory'));
  });

  await t.test('a second registered group cannot read the first group\'s memory from inside its container', async () => {
    fake.pushMessage({ chat: WORK, from: OWNER, text: '/register work' });
    await waitFor('the second registration', () => sentTo(fake, WORK).length === 1);
    assert.match(sentTo(fake, WORK)[0]!, /^Registered this chat as group work\./);

    const famMemoryOnHost = join(famDir, 'memory');
    h.model.push(
      {
        toolCalls: [
          toolCall('shell', {
            command: [
              'echo "[ls]"; ls -a /workspace',
              'echo "[find]"; find / -name secret.txt -o -name MEMORY.md 2>/dev/null',
              `echo "[grep]"; grep -rl -e ${SECRET} -e 'Memory of' /workspace /tmp 2>/dev/null`,
              `echo "[cat]"; cat /workspace/memory/../../fam/memory/secret.txt ${famMemoryOnHost}/secret.txt ${famMemoryOnHost}/MEMORY.md`,
              'echo "[end]"',
            ].join('; '),
          }),
          toolCall('read_file', { path: '../../fam/memory/secret.txt' }),
          toolCall('read_file', { path: `${famMemoryOnHost}/secret.txt` }),
          toolCall('read_file', { path: '/workspace/memory/../../fam/memory/MEMORY.md' }),
          toolCall('list_files', { path: '/workspace', recursive: true }),
        ],
      },
      { content: 'I found nothing of the other group.' },
    );
    fake.pushMessage({ chat: WORK, from: ALICE, text: '@enclave_test_bot what is the family code word?' });
    await waitForReply(fake, WORK, 'I found nothing of the other group.');

    const [first, last] = [h.model.requests.at(-2)!, h.model.requests.at(-1)!];
    assert.match(systemPromptOf(first), /# Memory of work/);
    assert.ok(!systemPromptOf(first).includes(SECRET), 'the other group\'s memory is not in this prompt');
    const [shell, readUp, readHostPath, readMemoryUp, listing] = toolResultsOf(last);
    for (const result of [shell, readUp, readHostPath, readMemoryUp, listing]) {
      assert.ok(result !== undefined && !result.includes(SECRET), `no tool result shows the first group's secret: ${result}`);
    }
    const section = (name: string) => new RegExp(`\\[${name}\\]\\n([\\s\\S]*?)\\[`).exec(shell!)?.[1] ?? assert.fail(`no [${name}] in ${shell}`);
    assert.match(shell!, /\[end\]/, 'the whole search ran');
    assert.match(section('ls'), /^\.\n\.\.\nglobal\ninbox\nmemory\n(skills\n)?$/, 'the workspace holds only this group\'s memory and inbox, the global memory and the skills folder');
    assert.equal(section('find'), '/workspace/memory/MEMORY.md\n', 'the only memory file in the container is its own; no secret.txt anywhere');
    assert.equal(section('grep'), '/workspace/memory/MEMORY.md\n', 'no file in the workspace or /tmp holds the secret');
    assert.equal(section('cat').match(/No such file or directory/g)?.length, 3, section('cat'));
    assert.match(readUp!, /^Error: refused: .* is outside \/workspace/);
    assert.match(readHostPath!, /^Error: refused: .* is outside \/workspace/);
    assert.match(readMemoryUp!, /^Error: refused: .* is outside \/workspace/);
    assert.ok(!listing!.includes('fam'), `the workspace listing shows nothing of fam: ${listing}`);

    const famState = h.app.containers.state('fam');
    const workState = h.app.containers.state('work');
    assert.equal(workState.state, 'running');
    assert.notEqual(workState.id, famState.id, 'each group has its own container');
    const mounts = await mountSources(h, 'work');
    assert.equal(mounts.get('/workspace/memory'), join(h.home, 'groups', 'work', 'memory'));
    assert.ok(![...mounts.values()].some((source) => source.startsWith(famDir)), `no mount of work's container comes from fam: ${[...mounts.values()].join(', ')}`);
    assert.ok(existsSync(join(famDir, 'memory', 'secret.txt')), 'the first group\'s file is still there');
  });
});

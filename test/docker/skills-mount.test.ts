import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerSkipReason } from '../helpers/docker.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';

const skip = await dockerSkipReason();

const GROUP = 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\nfallbacks: [fake-model-2]\nskills: [notes]\ntimezone: UTC\n';
const PRICES = 'prices:\n  fake-model: { input: 1, output: 2 }\n  fake-model-2: { input: 1, output: 2 }\n';

const toolResults = (body: Record<string, unknown>) =>
  (body.messages as { role: string; content: string }[]).filter((m) => m.role === 'tool').map((m) => m.content);

// The chat commands themselves are tested without Docker in test/host/chat-commands.test.ts.
test('skills are mounted read-only into the agent container', { skip }, async (t) => {
  const h = await startHarness({ groups: { main: GROUP }, enclaveYaml: PRICES, start: { clock: middayClock() } });
  t.after(() => h.stop());

  await t.test('skills: listed in the prompt, readable, never writable', async () => {
    h.model.push(
      { toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: 'head -2 /workspace/skills/notes/SKILL.md; touch /workspace/skills/notes/x 2>&1; echo rc=$?' }) }] },
      { content: 'done' },
    );
    const r = await h.say('main', 'look at your skills');
    assert.deepEqual(r.replies, ['done']);
    const system = (h.model.requests[0]!.body.messages as { content: string }[])[0]!.content;
    assert.match(system, /- notes: Keep structured, durable notes .*\(instructions: \/workspace\/skills\/notes\/SKILL\.md\)/);
    assert.ok(!system.includes('## Layout'), 'the full skill file is not in the prompt');
    const out = toolResults(h.model.requests[1]!.body).join('\n');
    assert.match(out, /---\nname: notes/);
    assert.match(out, /Read-only file system/);
    assert.match(out, /rc=1/);
  });

});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { waitFor } from '../helpers/wait.js';

const GROUP = 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\nfallbacks: [fake-model-2]\ntimezone: UTC\n';
const PRICES = 'prices:\n  fake-model: { input: 1, output: 2 }\n  fake-model-2: { input: 1, output: 2 }\n';

// No Docker: the agent runs in this process (test/helpers/in-process-runtime.ts); the commands are the host's.
test('chat commands answered by the host', async (t) => {
  const runtime = new InProcessRuntime();
  const h = await startHarness({ groups: { main: GROUP }, enclaveYaml: PRICES, start: { clock: middayClock(), runtime } });
  t.after(() => h.stop());

  await t.test('/help lists owner commands for the owner; /whoami says who and where', async () => {
    const help = await h.say('main', '/help');
    assert.equal(help.status, 'command');
    for (const cmd of ['/status', '/budget', '/reset', '/model', '/stop', '/tasks', '/whoami', '/approve <code>', '/register <name>']) {
      assert.ok(help.replies[0]!.includes(cmd), cmd);
    }
    const who = await h.say('main', '/whoami');
    assert.match(who.replies[0]!, /You are local:.* \(owner\)\.\nThis chat is local:main, group main\./);
    const unknown = await h.say('main', '/frobnicate');
    assert.match(unknown.replies[0]!, /^Unknown command \/frobnicate\.\nCommands:/);
    assert.equal(h.model.requests.length, 0, 'no command reached a model');
  });

  await t.test('/model shows and switches among the allowed models; the next turn uses it', async () => {
    assert.match((await h.say('main', '/model')).replies[0]!, /^Model: fake-model\nAllowed: fake-model, fake-model-2/);
    assert.match((await h.say('main', '/model gpt-5')).replies[0]!, /not one of this group's models/);
    assert.equal((await h.say('main', '/model fake-model-2')).replies[0], 'Model switched to fake-model-2.');
    h.model.push({ content: 'from model two' });
    assert.deepEqual((await h.say('main', 'hello')).replies, ['from model two']);
    assert.equal(h.model.requests.at(-1)!.body.model, 'fake-model-2');
    assert.match((await h.say('main', '/status')).replies[0]!, /Model: fake-model-2, fallbacks fake-model via env\nLast answer by: fake-model-2/);
    assert.ok(h.app.audit.tail(50).some((row) => row.kind === 'group_change' && row.detail.setting === 'model'));
  });

  await t.test('/stop ends a running turn; with nothing running it says so', async () => {
    assert.equal((await h.say('main', '/stop')).replies[0], 'Nothing is running right now.');
    const before = h.model.requests.length;
    h.model.push({ content: 'too late', delayMs: 60_000 });
    const slow = h.say('main', 'take your time');
    await waitFor('the slow model call', () => h.model.requests.length > before);
    const stop = await h.say('main', '/stop');
    assert.match(stop.replies[0]!, /^Stopped the running turn/);
    const cut = await slow;
    assert.equal(cut.outcome, 'failed');
    // The local chat collects everything said meanwhile: only /stop's answer, no failure message.
    assert.deepEqual(cut.replies, [stop.replies[0]], 'the stopped turn says nothing more');
    h.model.push({ content: 'back again' });
    assert.deepEqual((await h.say('main', 'still there?')).replies, ['back again'], 'the next message starts a fresh container');
    assert.deepEqual(runtime.started, ['main', 'main'], 'the stopped turn\'s container was replaced');
  });

  await t.test('/budget shows spend; a tiny limit refuses the next call and tells the chat once', async () => {
    const shown = (await h.say('main', '/budget')).replies[0]!;
    assert.match(shown, /^Budget of main/);
    assert.match(shown, /Today \(\d{4}-\d\d-\d\d\): \$0\.\d+ of \$1\.00/);
    assert.match((await h.say('main', '/budget set daily 0.000001')).replies[0]!, /daily budget of this group is now \$0\.000001/);
    const calls = h.model.requests.length;
    const first = await h.say('main', 'one more question');
    assert.equal(h.model.requests.length, calls, 'refused before any upstream call');
    const notices = first.replies.filter((r) => /budget/i.test(r) && /resets/.test(r) && !r.startsWith('Sorry'));
    assert.equal(notices.length, 1, `one budget notice: ${JSON.stringify(first.replies)}`);
    const second = await h.say('main', 'and another');
    assert.equal(second.replies.filter((r) => /resets at/.test(r) && !r.startsWith('Sorry')).length, 0, 'no second notice in the same window');
    assert.ok(second.replies.some((r) => r.startsWith('Sorry')), 'the failed turn is still reported');
    assert.ok(h.app.audit.tail(100).some((row) => row.kind === 'budget_change'));
    assert.ok(h.app.audit.tail(100).some((row) => row.kind === 'model_refused'));
  });
});

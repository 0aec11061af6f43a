import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Enclave } from '../../src/app.js';
import { ConfigError } from '../../src/config/errors.js';
import { silentLogger } from '../../src/logger.js';
import { runCli } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { makeHome, startHarness } from '../helpers/harness.js';

const skip = await dockerSkipReason();

test('a malformed group.yaml names the file, the line and the fix, and touches no state', async () => {
  const home = makeHome({ groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodle: gpt-4o\n' } });
  await assert.rejects(Enclave.start({ home, env: {}, log: silentLogger() }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.file, join(home, 'groups', 'main', 'group.yaml'));
    assert.equal(err.line, 3);
    assert.match(err.message, /modle/);
    assert.match(err.message, /Fix: remove or rename the unknown key/);
    return true;
  });
  assert.ok(!existsSync(join(home, 'data')), 'no database or run directory was created');

  writeFileSync(join(home, 'groups', 'main', 'group.yaml'), 'chats: [local:main\nmodel: x\n');
  const cli = await runCli(['send', '--group', 'main', 'hello'], { PATH: process.env.PATH, ENCLAVE_HOME: home });
  assert.equal(cli.code, 1);
  assert.match(cli.stderr, /configuration error in .*group\.yaml:\d+: invalid YAML/);
  assert.ok(!cli.stderr.includes('    at '), 'no stack trace');
});

test('a wrong type in enclave.yaml is reported with its key and line', async () => {
  const home = makeHome({ enclaveYaml: 'assistantName: Ada\ncontainer:\n  memoryMb: lots\n' });
  await assert.rejects(Enclave.start({ home, env: {}, log: silentLogger() }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.line, 3);
    assert.match(err.message, /container\.memoryMb/);
    return true;
  });
});

test('group names with path tricks are refused', async () => {
  const home = makeHome();
  mkdirSync(join(home, 'groups', 'Bad..Name'));
  writeFileSync(join(home, 'groups', 'Bad..Name', 'group.yaml'), 'chats: [local:x]\n');
  await assert.rejects(Enclave.start({ home, env: {}, log: silentLogger() }), /not a valid group name/);

  const home2 = makeHome();
  const cli = await runCli(['send', '--group', '../../etc', 'hi'], { PATH: process.env.PATH, ENCLAVE_HOME: home2, OPENAI_API_KEY: 'x' });
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /no group named "..\/..\/etc"/);
});

test('an empty message is refused by the CLI with a clear message', async () => {
  const cli = await runCli(['send', '--group', 'main', '   '], { PATH: process.env.PATH, ENCLAVE_HOME: makeHome() });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /the message is empty; give a text or --attach a file/);
});

test('odd input through a real container: huge, empty, broken tool-call JSON', { skip }, async (t) => {
  const h = await startHarness();
  t.after(() => h.stop());

  await t.test('a 1 MB message is truncated with a notice and still answered', async () => {
    h.model.push({ content: 'That was long.' });
    const r = await h.say('main', 'x'.repeat(1024 * 1024));
    assert.equal(r.replies.length, 2, 'the sender is told of the cut, then answered');
    assert.match(r.replies[0]!, /Your message was 1048576 characters long, so I read only the first 16000/);
    assert.equal(r.replies[1], 'That was long.');
    const last = (h.model.requests.at(-1)!.body.messages as { content: string }[]).at(-1)!.content;
    assert.ok(last.length < 20_000, `the agent got ${last.length} characters`);
    assert.match(last, /this message was 1048576 characters long; only the first 16000 were kept/);
  });

  await t.test('an empty message is ignored without a model call', async () => {
    const before = h.model.requests.length;
    const r = await h.say('main', '   ');
    assert.equal(r.status, 'ignored');
    assert.equal(r.outcome, 'none');
    assert.equal(h.model.requests.length, before);
  });

  await t.test('a tool call with arguments that are not JSON does not break the turn', async () => {
    h.model.push({ toolCalls: [{ name: 'write_file', arguments: '{"path": "x.md", "content": ' } ] }, { content: 'Recovered.' });
    const r = await h.say('main', 'write something');
    assert.deepEqual(r.replies, ['Recovered.']);
    const tool = (h.model.requests.at(-1)!.body.messages as { role: string; content: string }[]).find((m) => m.role === 'tool');
    assert.match(tool!.content, /not valid JSON/i);
    assert.ok(!existsSync(join(h.home, 'groups', 'main', 'memory', 'x.md')));
  });

  await t.test('a provider error becomes a message in the chat, not silence', async () => {
    h.model.push({ status: 500, body: { error: { message: 'upstream exploded' } } });
    const r = await h.say('main', 'hello?');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.replies.length, 1);
    assert.match(r.replies[0]!, /^Sorry, I could not answer that: .*internal error/);
    assert.doesNotMatch(r.replies[0]!, /\b500\b/, 'no HTTP status in the chat');
    assert.ok(!r.replies[0]!.includes(h.canary));
    assert.ok(!r.replies[0]!.includes('127.0.0.1'), 'the upstream URL is not revealed');
    assert.ok(readFileSync(join(h.home, 'groups', 'main', 'group.yaml'), 'utf8').includes('fake-model'));
  });
});

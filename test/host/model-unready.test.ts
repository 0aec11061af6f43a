import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { middayClock } from '../helpers/clock.js';
import { startHarness, type HarnessOptions } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';

// No Docker: a model that cannot answer is told by the host before any container or model call.
async function harness(t: test.TestContext, opts: HarnessOptions) {
  const h = await startHarness({ ...opts, start: { clock: middayClock(), runtime: new InProcessRuntime() } });
  t.after(() => h.stop());
  return h;
}

test('no provider at all: one sentence naming the model, the turn failed, no model call', async (t) => {
  const h = await harness(t, { noProvider: true });
  const r = await h.say('main', 'hello?');
  assert.equal(r.outcome, 'failed');
  assert.equal(r.replies.length, 1);
  assert.match(r.replies[0]!, /No model provider is configured, so model fake-model \(group main\) cannot answer\. Store a key with `enclave secrets set OPENAI_API_KEY`/);
  assert.equal(h.model.requests.length, 0);
  assert.deepEqual(h.app.modelProblems().map((p) => p.kind), ['no_provider'], 'the same check `enclave start` prints');
});

test('a provider that does not serve the model: the reply names the model and lists what is served', async (t) => {
  const h = await harness(t, {
    noProvider: true,
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: llama3.2\n' },
    enclaveYaml: 'providers:\n  - { name: local, baseUrl: "http://127.0.0.1:9/v1", models: [qwen2.5, phi4] }\nprices:\n  llama3.2: { input: 0, output: 0 }\n',
  });
  const r = await h.say('main', 'hello?');
  assert.equal(r.outcome, 'failed');
  assert.match(r.replies[0]!, /No provider serves model llama3\.2 \(group main\): provider local serves qwen2\.5, phi4\./);
  assert.doesNotMatch(r.replies[0]!, /\b[45]\d\d\b/, 'no HTTP status');
});

test('a missing key names the secret and the command; a missing price gives the YAML', async (t) => {
  const h = await harness(t, {
    noProvider: true,
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n', priced: 'chats: [local:priced]\nrequireTrigger: false\nmodel: unpriced-1\n' },
    enclaveYaml: 'providers:\n  - { name: paid, baseUrl: "https://llm.example.com/v1", secret: PAID_KEY, models: [fake-model] }\n  - { name: free, baseUrl: "http://127.0.0.1:9/v1" }\n',
  });
  const keyless = await h.say('main', 'hello?');
  assert.equal(keyless.outcome, 'failed');
  assert.match(keyless.replies[0]!, /Provider paid needs the key PAID_KEY .*Run `enclave secrets set PAID_KEY`/);
  const unpriced = await h.say('priced', 'hello?');
  assert.equal(unpriced.outcome, 'failed');
  assert.match(unpriced.replies[0]!, /Model unpriced-1 \(group priced\) has no price.*\nprices:\n {2}unpriced-1: \{ input: 0, output: 0 \}/s);
  assert.equal(h.model.requests.length, 0);
});

test('a fallback that can answer is not blocked by a primary whose key is missing', async (t) => {
  const h = await harness(t, {
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: keyless-1\nfallbacks: [fake-model]\n' },
    enclaveYaml: 'providers:\n  - { name: paid, baseUrl: "https://llm.example.com/v1", secret: PAID_KEY, models: [keyless-1] }\nprices:\n  fake-model: { input: 1, output: 2 }\n  keyless-1: { input: 1, output: 2 }\n',
  });
  assert.deepEqual(h.app.modelProblems().map((p) => [p.kind, p.model]), [['no_key', 'keyless-1']], 'start warns about the primary');
  h.model.push({ content: 'from the fallback' });
  const r = await h.say('main', 'hello?');
  assert.deepEqual(r.replies, ['from the fallback']);
  assert.equal(r.outcome, 'answered');
  assert.equal(h.model.requests.at(-1)!.body.model, 'fake-model');
});

test('a provider that does not serve the model: after the failed turn the reply lists what it serves', async (t) => {
  const h = await harness(t, {});
  h.model.served = { ids: ['qwen2.5', 'phi4'] };
  h.model.push({ status: 404, body: { error: { message: 'model "fake-model" not found, try pulling it first' } } });
  const r = await h.say('main', 'hello?');
  assert.equal(r.outcome, 'failed');
  assert.equal(r.replies.length, 1);
  // The list is read once for setup, doctor and turns alike, and shown sorted.
  assert.match(r.replies[0]!, new RegExp(`Provider env at ${h.model.baseUrl.replace(/\./g, '\\.')} does not serve model fake-model \\(group main\\); it serves: phi4, qwen2\\.5\\.`));
  assert.ok(!r.replies[0]!.includes(h.canary));
});

test('an unreachable provider is named with its URL (never the credentials written into it)', async (t) => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const h = await harness(t, {
    noProvider: true,
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: local-1\n' },
    enclaveYaml: `providers:\n  - { name: away, baseUrl: "http://user:hunter22@127.0.0.1:${port}/v1" }\nprices:\n  local-1: { input: 0, output: 0 }\n`,
  });
  const r = await h.say('main', 'hello?');
  assert.equal(r.outcome, 'failed');
  assert.match(r.replies[0]!, new RegExp(`Provider away at http://127\\.0\\.0\\.1:${port}/v1 is unreachable\\. Check that the server at http://127\\.0\\.0\\.1:${port}/v1 is running`));
  assert.ok(!r.replies[0]!.includes('hunter22'));
});

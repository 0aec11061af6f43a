import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { priceFor } from '../../src/ledger/pricing.js';
import { checkModelsOffline, checkProvidersOnline, groupModelProblems, readinessLines } from '../../src/services/model-readiness.js';
import { FakeModel } from '../fakes/fake-model.js';
import { makeHome } from '../helpers/harness.js';

function home(t: TestContext, opts: Parameters<typeof makeHome>[0]): string {
  const dir = makeHome(opts);
  t.after(() => execFileSync('rm', ['-rf', dir]));
  return dir;
}

const none = () => false;

test('a model with no price is named at start with the YAML to paste', (t) => {
  const h = home(t, {
    groups: { main: 'chats: [local:main]\nmodel: gpt-4.1\nfallbacks: [fake-model]\n', ops: 'chats: [local:ops]\nmodel: gpt-4.1\n' },
    enclaveYaml: 'providers:\n  - { name: openai, baseUrl: "https://api.openai.com/v1", secret: OPENAI_API_KEY }\n',
  });
  const cfg = loadConfig(h, {}, () => true);
  const problems = checkModelsOffline(cfg, { hasSecret: () => true });
  assert.deepEqual(problems.map((p) => [p.kind, p.model, p.usedBy]), [['no_price', 'gpt-4.1', ['main', 'ops']]], 'fake-model is priced; gpt-4.1 is not');
  const lines = readinessLines(problems, cfg.paths.configFile);
  assert.match(lines[0]!, /model gpt-4\.1 has no price/);
  assert.equal(lines[1], 'prices:');
  assert.match(lines[2]!, /^ {2}gpt-4\.1: \{ input: <USD per 1M input tokens>, output: <USD per 1M output tokens> \}/, 'a paid model never gets a guessed price');
  const known = checkModelsOffline(cfg, { hasSecret: () => true, knownPrice: (m) => (m === 'gpt-4.1' ? { input: 2, cachedInput: 0.5, output: 8 } : undefined) });
  assert.match(known[0]!.fix, /\nprices:\n {2}gpt-4\.1: \{ input: 2, cachedInput: 0\.5, output: 8 \}$/);
});

test('a missing key names the secret and the command; no provider names what the providers serve', (t) => {
  const h = home(t, {
    groups: { main: 'chats: [local:main]\nmodel: fake-model\n', odd: 'chats: [local:odd]\nmodel: mystery-1\n' },
    enclaveYaml: 'providers:\n  - { name: openai, baseUrl: "https://api.openai.com/v1", secret: OPENAI_API_KEY, models: [fake-model, gpt-4.1] }\n',
  });
  const cfg = loadConfig(h, {});
  const problems = checkModelsOffline(cfg, { hasSecret: none });
  const noKey = problems.find((p) => p.kind === 'no_key');
  assert.equal(noKey?.model, 'fake-model');
  assert.match(noKey!.problem, /needs the key OPENAI_API_KEY/);
  assert.match(noKey!.fix, /`enclave secrets set OPENAI_API_KEY`/);
  const unserved = problems.find((p) => p.kind === 'no_provider');
  assert.equal(unserved?.model, 'mystery-1');
  assert.match(unserved!.problem, /No provider serves model mystery-1 \(group odd\): provider openai serves fake-model, gpt-4\.1\./);
  assert.deepEqual(groupModelProblems(cfg, 'odd', { hasSecret: () => true }).map((p) => p.kind), ['no_provider'], 'one group\'s own problems');
  assert.deepEqual(checkModelsOffline(cfg, { hasSecret: none, transcriptionModel: 'whisper-9' }).filter((p) => p.usedBy.includes('transcription')).map((p) => p.kind), ['no_provider'], 'the transcription model is checked too');
});

test('the README\'s Ollama line is priced: a keyless endpoint on this machine gets price 0 for ENCLAVE_MODEL only', (t) => {
  const h = home(t, { groups: { main: 'chats: [local:main]\n' } });
  const env = { OPENAI_BASE_URL: 'http://localhost:11434/v1', ENCLAVE_MODEL: 'llama3.2' };
  const cfg = loadConfig(h, env);
  assert.deepEqual(checkModelsOffline(cfg, { hasSecret: none }), [], 'llama3.2 is ready with no price written');
  assert.deepEqual(priceFor(cfg.providers[0]!, 'llama3.2', cfg.enclave.prices), { input: 0, output: 0 });
  assert.equal(priceFor(cfg.providers[0]!, 'other-model', cfg.enclave.prices), undefined, 'other models stay refused');
  const remote = loadConfig(h, { ...env, OPENAI_BASE_URL: 'https://llm.example.com/v1' });
  assert.deepEqual(checkModelsOffline(remote, { hasSecret: none }).map((p) => p.kind), ['no_price'], 'not on this machine: not free');
  const keyed = loadConfig(h, { ...env, OPENAI_API_KEY: 'sk-x' });
  assert.deepEqual(checkModelsOffline(keyed, { hasSecret: () => true }).map((p) => p.kind), ['no_price'], 'a key means someone may bill: not free');
  const fix = checkModelsOffline(remote, { hasSecret: none })[0]!.fix;
  assert.match(fix, /<USD per 1M input tokens>/);
  const local = loadConfig(home(t, { groups: { main: 'chats: [local:main]\nmodel: qwen\n' }, enclaveYaml: 'providers:\n  - { name: ollama, baseUrl: "http://127.0.0.1:11434/v1" }\n' }), {});
  assert.match(checkModelsOffline(local, { hasSecret: none })[0]!.fix, /\nprices:\n {2}qwen: \{ input: 0, output: 0 \}/, 'a model on this machine: paste 0');
});

test('online: a provider that does not serve the model lists what it serves; a refused key and an unreachable URL are named', async (t) => {
  const fake = await FakeModel.start();
  t.after(() => fake.close());
  fake.served = { ids: ['llama3.2:latest', 'qwen2.5'], key: 'sk-good' };
  const h = home(t, {
    groups: { main: 'chats: [local:main]\nmodel: llama3.2\n', other: 'chats: [local:other]\nmodel: mistral\n' },
    enclaveYaml: `providers:\n  - { name: local, baseUrl: "${fake.baseUrl}", secret: LOCAL_KEY }\nprices:\n  llama3.2: { input: 0, output: 0 }\n  mistral: { input: 0, output: 0 }\n`,
  });
  const cfg = loadConfig(h, {});
  const problems = await checkProvidersOnline(cfg, { secret: () => 'sk-good' });
  assert.deepEqual(problems.map((p) => [p.kind, p.model]), [['not_served', 'mistral']], 'llama3.2 is served as llama3.2:latest');
  assert.match(problems[0]!.problem, new RegExp(`Provider local at ${fake.baseUrl.replace(/[.]/g, '\\.')} does not serve model mistral \\(group other\\); it serves: llama3\\.2:latest, qwen2\\.5\\.`));

  const refused = await checkProvidersOnline(cfg, { secret: () => 'sk-bad' });
  assert.deepEqual(refused.map((p) => p.kind), ['key_refused', 'key_refused']);
  assert.match(refused[0]!.fix, /`enclave secrets set LOCAL_KEY`/);
  assert.ok(!refused.some((p) => `${p.problem}${p.fix}`.includes('sk-bad')), 'the key itself is never printed');

  // A port that refuses connections: bound, then closed.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const gone = loadConfig(home(t, { groups: { main: 'chats: [local:main]\nmodel: fake-model\n' }, enclaveYaml: `providers:\n  - { name: away, baseUrl: "http://127.0.0.1:${port}/v1" }\n` }), {});
  const unreachable = await checkProvidersOnline(gone, { secret: () => undefined });
  assert.equal(unreachable[0]?.kind, 'unreachable');
  assert.match(unreachable[0]!.problem, new RegExp(`Provider away at http://127\\.0\\.0\\.1:${port}/v1 is unreachable\\.`));

  fake.served = undefined;
  assert.deepEqual(await checkProvidersOnline(cfg, { secret: () => 'sk-good' }), [], 'a server without a model list is not held against it');
});

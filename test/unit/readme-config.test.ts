import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { enclaveConfigSchema, groupConfigSchema } from '../../src/config/schema.js';
import { packageRoot } from '../../src/paths.js';

const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');

/** The yaml code blocks under a README heading (up to the next heading of the same level). */
function yamlBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const level = heading.split(' ')[0]!;
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{2,${level.length}} `));
  const section = end >= 0 ? rest.slice(0, end) : rest;
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test('every enclave.yaml example in the README is valid configuration', () => {
  const headings = ['### `enclave.yaml` (in `ENCLAVE_HOME`)', '### Providers', '### Telegram', '### Discord', '### Slack', '### WhatsApp'];
  for (const heading of headings) {
    const blocks = yamlBlocks(heading);
    assert.ok(blocks.length > 0, `${heading} has an example`);
    for (const block of blocks) {
      const parsed = enclaveConfigSchema.safeParse(parse(block));
      assert.ok(parsed.success, `${heading}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues[0])}`);
    }
  }
});

test('the documented providers cover the promised endpoints, each with prices for its models', () => {
  const [block] = yamlBlocks('### Providers');
  const cfg = enclaveConfigSchema.parse(parse(block!));
  const names = cfg.providers.map((p) => p.name);
  for (const name of ['openai', 'anthropic', 'gemini', 'openrouter', 'groq', 'mistral', 'ollama', 'vllm', 'lmstudio']) assert.ok(names.includes(name), name);
  for (const p of cfg.providers) for (const m of p.models ?? []) assert.ok(p.prices[m], `${p.name} prices ${m}`);
});

test('the group.yaml example in the README is valid', () => {
  const [block] = yamlBlocks('### `groups/<name>/group.yaml`');
  const parsed = groupConfigSchema.safeParse(parse(block!));
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues[0]));
});

test('the starter enclave.yaml and the group template are valid', () => {
  const starter = readFileSync(join(packageRoot(), 'groups', 'templates', 'enclave.yaml.template'), 'utf8');
  assert.ok(enclaveConfigSchema.safeParse(parse(starter)).success);
  const group = readFileSync(join(packageRoot(), 'groups', 'templates', 'group.yaml.template'), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, k: string) => (k === 'chat' ? 'telegram:-100' : 'x'));
  assert.ok(groupConfigSchema.safeParse(parse(group)).success);
});

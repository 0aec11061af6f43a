import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveProviders } from '../../src/config/providers.js';
import { enclaveConfigSchema } from '../../src/config/schema.js';

test('the built-in env provider comes from the environment or from a key in the vault', () => {
  const cfg = enclaveConfigSchema.parse({});
  assert.deepEqual(resolveProviders(cfg, {}), [], 'nothing configured, nothing stored');
  const fromVault = resolveProviders(cfg, {}, (name) => name === 'OPENAI_API_KEY');
  assert.deepEqual(fromVault.map((p) => [p.name, p.baseUrl, p.secret]), [['env', 'https://api.openai.com/v1', 'OPENAI_API_KEY']]);
  const local = resolveProviders(cfg, { OPENAI_BASE_URL: 'http://localhost:11434/v1' });
  assert.deepEqual(local.map((p) => [p.name, p.secret]), [['env', undefined]], 'a keyless local endpoint');
});

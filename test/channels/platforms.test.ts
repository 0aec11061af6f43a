import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PLATFORM_NAMES, PLATFORMS } from '../../channels/platforms.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import { platformChannels } from '../../src/channel-factory.js';
import { channelsSchema } from '../../src/config/channels-schema.js';
import { loadConfig, seedHome } from '../../src/config/load.js';
import { Commands, type CommandSpec } from '../../src/core/commands/commands.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { configSecretNames, envSecretValues } from '../../src/secret-values.js';

test('every platform in the table has an enclave.yaml section, off by default, with who may DM the bot', () => {
  const defaults = channelsSchema.parse({});
  assert.deepEqual(Object.keys(defaults).sort(), ['local', ...PLATFORM_NAMES].sort());
  for (const name of PLATFORM_NAMES) {
    assert.equal(PLATFORMS[name].name, name);
    assert.equal(defaults[name].enabled, false, name);
    assert.equal(defaults[name].dmPolicy, 'pairing', name);
    assert.equal(channelsSchema.safeParse({ [name]: { surprise: true } }).success, false, `${name} refuses unknown keys`);
  }
});

test('enabled platforms are built from the table, and their secret names are scrubbed from the environment', () => {
  const home = mkdtempSync(join(tmpdir(), 'enc-platforms-'));
  seedHome(home);
  writeFileSync(
    join(home, 'enclave.yaml'),
    ['channels:', '  telegram:', '    enabled: true', '  slack:', '    enabled: true', '    tokenSecret: MY_SLACK_BOT', '  whatsapp:', '    enabled: true', ''].join('\n'),
  );
  const config = loadConfig(home, {});
  const channels = platformChannels({ config, db: openDatabase(':memory:'), log: silentLogger(), secret: (name) => `value of ${name}` });
  assert.deepEqual(channels.map((c) => c.name), ['telegram', 'slack', 'whatsapp']);

  const names = configSecretNames(config);
  for (const name of ['TELEGRAM_BOT_TOKEN', 'MY_SLACK_BOT', 'SLACK_APP_TOKEN', 'SLACK_SIGNING_SECRET']) assert.ok(names.includes(name), name);
  assert.ok(!names.includes('DISCORD_BOT_TOKEN'), 'a disabled platform has no secrets to scrub');
  assert.deepEqual(envSecretValues(config, { MY_SLACK_BOT: 'xoxb-from-env', DISCORD_BOT_TOKEN: 'unused' }), ['xoxb-from-env']);
});

test('the command menu the host hands the adapters lists what anyone may use, owner-only commands left out', () => {
  const spec = (name: string, ownerOnly?: (args: string[]) => boolean): CommandSpec => ({ name, usage: `/${name}`, help: `what ${name} does`, needsGroup: false, ownerOnly, run: () => '' });
  const commands = new Commands([spec('status'), spec('approve', () => true), spec('model', (args) => args.length > 0)], {
    audit: { append: () => undefined },
    notices: new RefusalNotices(openDatabase(':memory:'), () => 0),
  });
  assert.deepEqual(commands.menu(), [
    { name: 'status', description: 'What status does' },
    { name: 'model', description: 'What model does' },
    { name: 'help', description: 'What the commands do' },
  ]);
});

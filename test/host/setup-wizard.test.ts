import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/database.js';
import { homePaths } from '../../src/paths.js';
import { Vault } from '../../src/vault/vault.js';
import { FakeDiscord } from '../fakes/fake-discord.js';
import { FakeModel } from '../fakes/fake-model.js';
import { FakeSlack } from '../fakes/fake-slack.js';
import { FakeWhatsAppServer } from '../fakes/fake-whatsapp-server.js';
import { ALICE, FakeTelegram } from '../fakes/fake-telegram.js';
import { CliSession } from '../helpers/cli-session.js';

const KEY = 'sk-setup-test-key-0123456789abcdef';
const TG_TOKEN = '987654:setup-test-telegram-token-abcdef';

interface Rig {
  home: string;
  env: NodeJS.ProcessEnv;
  model: FakeModel;
  telegram: FakeTelegram;
}

async function rig(t: TestContext): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-setup-test-'));
  const model = await FakeModel.start();
  model.served = { ids: ['fake-mini', 'fake-large'], key: KEY };
  model.fallback = () => ({ content: 'ready' });
  const telegram = await FakeTelegram.start(TG_TOKEN);
  t.after(async () => {
    await model.close();
    await telegram.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const home = join(dir, 'home');
  return { home, model, telegram, env: { PATH: process.env.PATH, HOME: dir, ENCLAVE_HOME: home, SETUP_KEY: KEY, SETUP_TG: TG_TOKEN } };
}

function ledgerRows(home: string): { kind: string; group_name: string; model: string; micros: number }[] {
  const db = openDatabase(homePaths(home).dbFile);
  try {
    return db.prepare('SELECT kind, group_name, model, micros FROM ledger ORDER BY id').all() as { kind: string; group_name: string; model: string; micros: number }[];
  } finally {
    db.close();
  }
}

function storedSecret(home: string, name: string): string | undefined {
  const paths = homePaths(home);
  const db = openDatabase(paths.dbFile);
  try {
    return Vault.open(db, { dataDir: paths.dataDir, env: {} }).get(name);
  } finally {
    db.close();
  }
}

/** Sends /whoami from Alice's DM once the wizard asks for it. */
async function sendWhoamiWhenAsked(session: CliSession, telegram: FakeTelegram): Promise<void> {
  await session.waitForOutput('send /whoami');
  telegram.pushMessage({ chat: { id: ALICE.id, type: 'private', first_name: ALICE.first_name }, text: '/whoami' });
}

function assertNoSecret(text: string): void {
  assert.ok(!text.includes(KEY), 'the provider key is never printed or written in plain text');
  assert.ok(!text.includes(TG_TOKEN), 'the Telegram token is never printed or written in plain text');
}

test('setup driven by flags: key into the vault, a test call reserved and settled in the ledger, Telegram checked, owner by /whoami, a commented enclave.yaml', async (t) => {
  const r = await rig(t);
  const session = new CliSession(
    [
      'setup', '--provider', 'custom', '--base-url', r.model.baseUrl, '--model', 'fake-mini', '--key-from-env', 'SETUP_KEY',
      '--input-price', '1', '--output-price', '2', '--daily-budget', '3', '--monthly-budget', '30',
      '--telegram-token-from-env', 'SETUP_TG', '--telegram-api-root', r.telegram.apiRoot, '--owner-from', 'telegram', '--owner-wait-seconds', '60', '--yes',
    ],
    r.env,
  );
  session.endInput();
  await sendWhoamiWhenAsked(session, r.telegram);
  const code = await session.exited;
  assert.equal(code, 0, session.stdout + session.stderr);

  // The test call went through the proxy: the key was added there, and the ledger reserved then settled 12*1 + 5*2 micros.
  const calls = r.model.requestsFor('fake-mini');
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.headers.authorization, `Bearer ${KEY}`);
  const rows = ledgerRows(r.home);
  assert.deepEqual(rows.map((row) => [row.kind, row.group_name, row.model]), [['reserve', 'main', 'fake-mini'], ['settle', 'main', 'fake-mini']]);
  assert.ok(rows[0]!.micros >= rows[1]!.micros, 'the reservation bounds the settled cost');
  assert.equal(rows[1]!.micros, 22);
  assert.match(session.stdout, /✓ "ready" in \d+\.\d\d s; cost \$0\.00002/);

  assert.match(session.stdout, /Telegram bot @enclave_test_bot connected/);
  assert.match(r.telegram.sent.at(-1)!.text, /You are telegram:4201/);

  const yaml = readFileSync(homePaths(r.home).configFile, 'utf8');
  assertNoSecret(session.stdout + session.stderr + yaml);
  assert.match(yaml, /# USD per 1M tokens/, 'new keys carry comments');
  assert.match(yaml, /# Telegram: token in the vault as TELEGRAM_BOT_TOKEN/);
  const cfg = loadConfig(r.home, {});
  assert.equal(cfg.enclave.defaults.model, 'fake-mini');
  assert.deepEqual(cfg.enclave.providers.map((p) => [p.name, p.baseUrl, p.secret]), [['custom', r.model.baseUrl, 'CUSTOM_API_KEY']]);
  assert.deepEqual(cfg.enclave.providers[0]!.prices['fake-mini'], { input: 1, output: 2 });
  assert.deepEqual(cfg.enclave.budgets.group, { dailyUsd: 3, monthlyUsd: 30 });
  assert.equal(cfg.enclave.channels.telegram.enabled, true);
  assert.equal(cfg.enclave.channels.telegram.apiRoot, r.telegram.apiRoot);
  assert.deepEqual(cfg.enclave.owners, ['telegram:4201']);
  assert.equal(storedSecret(r.home, 'CUSTOM_API_KEY'), KEY);
  assert.equal(storedSecret(r.home, 'TELEGRAM_BOT_TOKEN'), TG_TOKEN);
});

test('setup driven through stdin, then re-run: the second run edits the setup (keeps the user\'s own keys and comments) instead of replacing it', async (t) => {
  const r = await rig(t);
  const first = new CliSession(['setup', '--telegram-api-root', r.telegram.apiRoot], r.env);
  first.answer(
    '10', // provider: any OpenAI-compatible URL
    r.model.baseUrl,
    KEY, // the key (hidden on a terminal)
    '', // model: the first one served
    'n', '1', '2', // not the price 0 offered for a server on this machine: input 1, output 2
    '5', '', // budgets: 5 a day, keep 20 a month
    'y', TG_TOKEN, // Telegram
    'n', 'n', 'n', // Discord, Slack, WhatsApp
    '', // make me the owner: yes
  );
  await sendWhoamiWhenAsked(first, r.telegram);
  assert.equal(await first.exited, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /The provider serves 2 model\(s\)/);
  assert.match(first.stdout, /input 0, output 0 \(a local model costs nothing\)/);
  assert.equal(ledgerRows(r.home).filter((row) => row.kind === 'settle').length, 1);
  assertNoSecret(first.stdout + first.stderr);

  const file = homePaths(r.home).configFile;
  writeFileSync(file, `${readFileSync(file, 'utf8')}maxContainers: 7 # my own setting\n`);

  const second = new CliSession(['setup'], r.env);
  second.answer('', '', '', '', '', '', '', '', '', '', '');
  second.endInput();
  assert.equal(await second.exited, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /A key is already set as CUSTOM_API_KEY/);
  assert.match(second.stdout, /Telegram is connected/);
  const yaml = readFileSync(file, 'utf8');
  assertNoSecret(second.stdout + second.stderr + yaml);
  assert.match(yaml, /maxContainers: 7 # my own setting/);
  const cfg = loadConfig(r.home, {});
  assert.equal(cfg.enclave.maxContainers, 7);
  assert.equal(cfg.enclave.providers.length, 1, 'the provider was edited, not added again');
  assert.deepEqual(cfg.enclave.budgets.group, { dailyUsd: 5, monthlyUsd: 20 });
  assert.deepEqual(cfg.enclave.owners, ['telegram:4201']);
  assert.equal(cfg.enclave.channels.telegram.enabled, true);
  assert.equal(ledgerRows(r.home).filter((row) => row.kind === 'settle').length, 2, 'the re-run made its own test call');
});

test('setup with a key the provider refuses fails, says what to do, and stores nothing', async (t) => {
  const r = await rig(t);
  const session = new CliSession(['setup', '--provider', 'custom', '--base-url', r.model.baseUrl, '--model', 'fake-mini', '--key-from-env', 'WRONG', '--yes'], { ...r.env, WRONG: 'sk-wrong-key-000000000000' });
  session.endInput();
  assert.equal(await session.exited, 1);
  assert.match(session.stderr, /refused the key.*nothing was saved. Fix: paste a valid key again/);
  assert.ok(!session.stderr.includes('sk-wrong-key-000000000000'));
  assert.equal(storedSecret(r.home, 'CUSTOM_API_KEY'), undefined);
});

test('setup with a model the provider does not serve names what it serves and exits 1', async (t) => {
  const r = await rig(t);
  const session = new CliSession(['setup', '--provider', 'custom', '--base-url', r.model.baseUrl, '--model', 'gpt-9', '--key-from-env', 'SETUP_KEY', '--yes'], r.env);
  session.endInput();
  assert.equal(await session.exited, 1);
  assert.match(session.stderr, /does not serve the model gpt-9; it serves: fake-large, fake-mini/);
});

test('setup connects Discord and Slack with tokens their (fake) APIs accept, and refuses a Discord token the API rejects', async (t) => {
  const r = await rig(t);
  const discord = await FakeDiscord.start({ token: 'discord-setup-token-0123456789' });
  const slack = await FakeSlack.start({ botToken: 'xoxb-setup-bot-token-0123', appToken: 'xapp-setup-app-token-0123' });
  t.after(async () => {
    await discord.close();
    await slack.close();
  });
  const env = { ...r.env, DC: 'discord-setup-token-0123456789', SB: 'xoxb-setup-bot-token-0123', SA: 'xapp-setup-app-token-0123', BAD: 'discord-wrong-token-000000000' };
  const common = ['setup', '--provider', 'ollama', '--base-url', r.model.baseUrl, '--model', 'fake-mini', '--no-test-call', '--yes'];
  const wrong = new CliSession([...common, '--discord-token-from-env', 'BAD', '--discord-api-base', discord.apiBase], env);
  wrong.endInput();
  assert.equal(await wrong.exited, 1);
  assert.match(wrong.stderr, /Discord does not accept this bot token; nothing was saved\. Fix: reset the token/);

  const session = new CliSession(
    [...common, '--discord-token-from-env', 'DC', '--discord-api-base', discord.apiBase, '--slack-token-from-env', 'SB', '--slack-app-token-from-env', 'SA', '--slack-api-url', slack.apiUrl],
    env,
  );
  session.endInput();
  assert.equal(await session.exited, 0, session.stdout + session.stderr);
  assert.match(session.stdout, /✓ Discord bot enclave connected/);
  assert.match(session.stdout, /✓ Slack bot enclave in Fake connected/);
  for (const value of [env.DC, env.SB, env.SA, env.BAD]) assert.ok(!(session.stdout + session.stderr + wrong.stderr).includes(value));
  const cfg = loadConfig(r.home, {});
  assert.equal(cfg.enclave.channels.discord.enabled, true);
  assert.equal(cfg.enclave.channels.discord.apiBase, discord.apiBase);
  assert.equal(cfg.enclave.channels.slack.enabled, true);
  assert.equal(storedSecret(r.home, 'DISCORD_BOT_TOKEN'), env.DC);
  assert.equal(storedSecret(r.home, 'SLACK_BOT_TOKEN'), env.SB);
  assert.equal(storedSecret(r.home, 'SLACK_APP_TOKEN'), env.SA);
});

test('setup --whatsapp qr shows the pairing QR from the (fake) WhatsApp server in the terminal', async (t) => {
  const r = await rig(t);
  const whatsapp = await FakeWhatsAppServer.start({ refs: ['ref-setup'] });
  t.after(() => whatsapp.close());
  mkdirSync(r.home, { recursive: true });
  writeFileSync(join(r.home, 'enclave.yaml'), `channels:\n  whatsapp: { socketUrl: "${whatsapp.url}" }\n`);
  const session = new CliSession(['setup', '--provider', 'ollama', '--base-url', r.model.baseUrl, '--model', 'fake-mini', '--no-test-call', '--whatsapp', 'qr', '--yes'], r.env);
  t.after(() => session.kill());
  session.endInput();
  await session.waitForOutput('Scan this QR code with WhatsApp on your phone');
  assert.ok(session.stdout.split('\n').filter((line) => /[▀▄█]/.test(line)).length >= 10, 'a QR block in the terminal');
  assert.equal(loadConfig(r.home, {}).enclave.channels.whatsapp.enabled, true);
  assert.equal(loadConfig(r.home, {}).enclave.channels.whatsapp.socketUrl, whatsapp.url, 'the user\'s own setting stays');
});

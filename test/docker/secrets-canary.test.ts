import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_SOCKET_PATH } from '../../container/agent/protocol.js';
import { createLogger } from '../../src/logger.js';
import { vaultKeyFile } from '../../src/vault/vault-key.js';
import { ALICE, FakeTelegram } from '../fakes/fake-telegram.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { errorCode, parseProbeResults, probeCommand, toolOutputs } from '../helpers/socket-probe.js';
import { waitFor } from '../helpers/wait.js';

const skip = await dockerSkipReason();

const random = () => `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;

/** Every regular file under a folder (sockets and other special files cannot be read). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return lstatSync(path).isFile() ? [path] : [];
  });
}

/** The files (by path) whose bytes contain the needle, searched as UTF-8 and as UTF-16LE (SQLite can store either). */
function filesContaining(files: readonly string[], needle: string): string[] {
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
  return files.filter((file) => {
    const bytes = readFileSync(file);
    return forms.some((form) => bytes.includes(form));
  });
}

test('no secret reaches a file, a log line, an audit row or a chat message', { skip }, async (t) => {
  const providerKey = `sk-vault-canary-${random()}`;
  const telegramToken = `7700001:tg-canary-${random()}`;
  const marker = `plain-marker-${random()}`;
  const telegram = await FakeTelegram.start(telegramToken);
  const logDir = mkdtempSync(join(tmpdir(), 'enc-log-'));
  const logFile = join(logDir, 'enclave.log');
  let scrubbed: () => readonly string[] = () => [];
  let stopHost = async (): Promise<void> => undefined;
  // As `enclave start` builds it: pino redaction, then every provider key and vault value scrubbed.
  const log = createLogger({ destination: logFile, level: 'debug', secrets: () => scrubbed() });
  t.after(async () => {
    await stopHost();
    await telegram.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  const h = await startHarness({
    log,
    start: { clock: middayClock() },
    secrets: { OPENAI_API_KEY: providerKey, TELEGRAM_BOT_TOKEN: telegramToken },
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\ntimezone: UTC\nbudget: { dailyUsd: 0.05 }\n' },
    enclaveYaml: [
      'failoverCooldownSeconds: 0',
      'prices:',
      '  fake-model: { input: 1, output: 2, maxOutputTokens: 8192 }',
      'channels:',
      '  telegram:',
      '    enabled: true',
      `    apiRoot: ${telegram.apiRoot}`,
      '    pollTimeoutSeconds: 1',
      '    reconnect: { baseMs: 5, maxMs: 50 }',
      '',
    ].join('\n'),
  });
  stopHost = () => h.stop();
  scrubbed = () => h.app.secretValues();
  const canaries = { 'provider key (vault)': providerKey, 'provider key (env)': h.canary, 'Telegram token': telegramToken, 'Telegram token secret part': telegramToken.split(':')[1]! };

  // Whole messages, the live text as it grows, and the final edits: every byte the chat was shown.
  const chat: string[] = [];
  const shown: string[] = [];
  h.app.local.subscribe((e) => {
    if (e.kind === 'message') chat.push(e.message.text);
    if (e.kind === 'live' || e.kind === 'edit') shown.push(e.text);
  });
  const echoAuthorization = (status: number) => (req: { headers: Record<string, unknown> }) => ({
    status,
    body: { error: { message: `Incorrect API key provided: ${String(req.headers.authorization)}`, type: 'invalid_request_error' } },
  });

  await t.test('a provider error that quotes the key reaches the chat without it', async () => {
    h.model.fallback = echoAuthorization(401);
    const unauthorized = await h.say('main', `first ${marker}`);
    assert.equal(h.model.requests.at(-1)!.headers.authorization, `Bearer ${providerKey}`, 'the vault key is the one sent upstream');
    assert.match(unauthorized.replies.join('\n'), /refused the key/);
    h.model.fallback = echoAuthorization(500);
    const failed = await h.say('main', 'second');
    assert.match(failed.replies.join('\n'), /internal error/);
    h.model.fallback = () => ({ content: 'fake model reply' });
  });

  await t.test('the agent is refused when it brings its own key', async () => {
    const probe = { socket: AGENT_SOCKET_PATH, name: 'own_key', method: 'POST', path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-attacker-key' }, body: { model: 'gpt-4-not-allowed', messages: [] } } as const;
    h.model.push({ toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: probeCommand(probe) }) }] }, { content: 'Refused, as expected.' });
    const r = await h.say('main', 'use your own key');
    assert.deepEqual(r.replies, ['Refused, as expected.']);
    const result = parseProbeResults(toolOutputs(h.model.requests.at(-1)!)).get('own_key');
    assert.equal(result?.status, 400);
    assert.equal(errorCode(result), 'authorization_not_allowed');
  });

  await t.test('a Telegram stranger is refused over the real client, with the token from the vault', async () => {
    telegram.dropNextPolls(1);
    telegram.pushMessage({ chat: { id: ALICE.id, type: 'private', first_name: 'Alice' }, text: 'hello bot' });
    const sent = await telegram.waitForSent(1);
    assert.match(sent.text, /pairing code/);
  });

  await t.test('the chat hears a budget notice and then a budget refusal', async () => {
    h.model.push({ content: 'An expensive answer.', usage: { prompt_tokens: 30_000, completion_tokens: 6_000, total_tokens: 36_000 } });
    const spent = await h.say('main', 'think hard');
    assert.ok(spent.replies.includes('An expensive answer.'), spent.replies.join(' | '));
    await waitFor('the 80% budget notice', () => chat.find((m) => /used 80% of its \$0\.05 daily budget/.test(m)));
    const before = h.model.requests.length;
    await h.say('main', 'and again');
    assert.equal(h.model.requests.length, before, 'refused before any upstream call');
    await waitFor('the budget refusal notice', () => chat.find((m) => /has spent .* this call could cost up to/.test(m)));
  });

  const files = [...filesUnder(h.home), logFile];
  const dbFiles = files.filter((f) => f.includes('enclave.db'));

  await t.test('the search covers the database, its WAL, the log and the memory files, and finds plain text there', () => {
    const names = files.map((f) => f.slice(h.home.length));
    for (const expected of ['/data/enclave.db', '/data/enclave.db-wal', '/data/vault.key', '/groups/main/memory/MEMORY.md']) {
      assert.ok(names.includes(expected), `${expected} is searched (found: ${names.join(', ')})`);
    }
    assert.ok(readFileSync(logFile, 'utf8').includes('"msg":"provider answered with an error"'), 'the log has the provider error lines');
    assert.ok(filesContaining(dbFiles, marker).length > 0, 'a chat message is readable in the raw database bytes, so a plaintext secret would be too');
  });

  await t.test('no secret in any file under ENCLAVE_HOME or in the log', () => {
    for (const [what, value] of Object.entries(canaries)) assert.deepEqual(filesContaining(files, value), [], `${what} found on disk`);
    assert.deepEqual(filesContaining(files, 'Bearer sk-'), [], 'an Authorization header value on disk');
    const vaultKey = readFileSync(vaultKeyFile(h.app.config.paths.dataDir), 'utf8').trim();
    const others = files.filter((f) => f !== vaultKeyFile(h.app.config.paths.dataDir));
    assert.deepEqual(filesContaining(others, vaultKey), [], 'the vault key outside its own file');
  });

  await t.test('no secret in any chat message, on either channel', () => {
    const said = [...chat, ...shown, ...telegram.sent.map((m) => m.text), ...telegram.calls.map((c) => JSON.stringify(c.params))].join('\n');
    assert.ok(chat.length >= 5, `the chat heard every failure and notice: ${chat.join(' | ')}`);
    for (const answer of ['Refused, as expected.', 'An expensive answer.']) assert.ok(shown.includes(answer), `the live reply "${answer}" was shown: ${shown.join(' | ')}`);
    for (const [what, value] of Object.entries(canaries)) assert.ok(!said.includes(value), `${what} in a chat message`);
    assert.ok(!said.includes('Bearer sk-'), 'an Authorization header in a chat message');
  });

  await t.test('the vault holds the secrets encrypted, and the host reads them back', () => {
    const rows = h.app.db.prepare('SELECT name, ciphertext FROM secrets ORDER BY name').all() as { name: string; ciphertext: Buffer }[];
    assert.deepEqual(rows.map((r) => r.name), ['OPENAI_API_KEY', 'TELEGRAM_BOT_TOKEN']);
    for (const row of rows) assert.ok(!row.ciphertext.includes(Buffer.from(row.name === 'OPENAI_API_KEY' ? providerKey : telegramToken)));
    // The vault's values, its key (base64 and hex), and the provider key the environment still offers.
    const held = h.app.secretValues();
    for (const value of [providerKey, telegramToken, h.canary]) assert.ok(held.includes(value));
    assert.equal(held.length, 5, 'three secrets and the two written forms of the vault key');
  });

  await t.test('the audit log verifies, and one edited row is named', () => {
    const rows = h.app.audit.tail(1000);
    for (const [what, value] of Object.entries(canaries)) assert.ok(!JSON.stringify(rows).includes(value), `${what} in an audit row`);
    assert.ok(rows.some((r) => r.kind === 'model_refused' && r.detail.reason === 'budget'), 'the budget refusal is audited');
    const verdict = h.app.audit.verify();
    assert.deepEqual(verdict, { ok: true, rows: rows.length });

    const target = rows.find((r) => r.kind === 'denial' && r.detail.reason === 'authorization_not_allowed')!;
    assert.ok(target, 'the agent\'s own-key attempt is audited');
    const db = h.app.db;
    assert.throws(() => db.prepare('UPDATE audit SET detail = ? WHERE id = ?').run('{}', target.id), /append-only/);
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare('UPDATE audit SET detail = ? WHERE id = ?').run(JSON.stringify({ reason: 'nothing_happened' }), target.id);
    const tampered = h.app.audit.verify();
    assert.equal(tampered.ok, false);
    assert.equal(!tampered.ok && tampered.rowId, target.id);
    assert.match(!tampered.ok ? tampered.reason : '', /changed/);
  });
});

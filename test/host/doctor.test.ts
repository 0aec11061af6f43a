import assert from 'node:assert/strict';
import Docker from 'dockerode';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { AuditLog } from '../../src/audit/audit-log.js';
import { seedHome } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/database.js';
import type { CheckResult, DoctorEnv } from '../../src/doctor/check.js';
import { doctorEnv, runDoctor, type DoctorReport } from '../../src/doctor/run-doctor.js';
import { homePaths } from '../../src/paths.js';
import { Vault } from '../../src/vault/vault.js';
import { FakeModel } from '../fakes/fake-model.js';
import { FakeTelegram } from '../fakes/fake-telegram.js';
import { runCli } from '../helpers/cli.js';
import { dockerSkipReason } from '../helpers/docker.js';

const KEY = 'sk-doctor-test-key-0123456789';
const TG_TOKEN = '555:doctor-test-telegram-token';

interface Home {
  home: string;
  model: FakeModel;
  telegram: FakeTelegram;
  setSecret(name: string, value: string): void;
  writeConfig(extra?: string): void;
}

/** A home that passes every check but Docker's: a priced, keyed, served model and a valid Telegram token. */
async function healthyHome(t: TestContext): Promise<Home> {
  const dir = mkdtempSync(join(tmpdir(), 'enclave-doctor-'));
  const home = join(dir, 'home');
  seedHome(home);
  const model = await FakeModel.start();
  model.served = { ids: ['fake-mini'], key: KEY };
  const telegram = await FakeTelegram.start(TG_TOKEN);
  t.after(async () => {
    await model.close();
    await telegram.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const paths = homePaths(home);
  const setSecret = (name: string, value: string) => {
    const db = openDatabase(paths.dbFile);
    Vault.open(db, { dataDir: paths.dataDir, env: {}, audit: new AuditLog(db) }).set(name, value);
    db.close();
  };
  const writeConfig = (extra = '') =>
    writeFileSync(
      paths.configFile,
      [
        'providers:',
        '  - name: fake',
        `    baseUrl: ${model.baseUrl}`,
        '    secret: FAKE_KEY',
        '    models: [fake-mini, fake-gone]',
        '    prices: { fake-mini: { input: 1, output: 2 }, fake-gone: { input: 1, output: 2 } }',
        'defaults: { model: fake-mini }',
        'channels:',
        `  telegram: { enabled: true, apiRoot: "${telegram.apiRoot}" }`,
        extra,
      ].join('\n'),
    );
  writeConfig();
  setSecret('FAKE_KEY', KEY);
  setSecret('TELEGRAM_BOT_TOKEN', TG_TOKEN);
  return { home, model, telegram, setSecret, writeConfig };
}

async function doctor(home: string, overrides: Partial<DoctorEnv> = {}, skip = ['docker', 'image']): Promise<DoctorReport> {
  return runDoctor(doctorEnv(home, {}, overrides), skip);
}

function only(report: DoctorReport, check: string): CheckResult[] {
  return report.checks.filter((c) => c.check === check);
}

function assertProblem(report: DoctorReport, check: string, summary: RegExp, fix: RegExp): void {
  assert.equal(report.ok, false);
  const problems = only(report, check).filter((c) => c.status === 'problem');
  assert.ok(problems.some((p) => summary.test(p.summary) && fix.test(p.fix ?? '')), `${check}: ${JSON.stringify(report.checks, null, 1)}`);
  const others = report.checks.filter((c) => c.status === 'problem' && c.check !== check);
  assert.deepEqual(others, [], 'only the planted problem is reported');
}

test('doctor: a healthy home passes every check', async (t) => {
  const h = await healthyHome(t);
  const report = await doctor(h.home);
  assert.deepEqual(report.checks.filter((c) => c.status !== 'ok'), []);
  assert.equal(report.ok, true);
  assert.deepEqual([...new Set(report.checks.map((c) => c.check))], ['node', 'disk', 'permissions', 'config', 'providers', 'models', 'channels', 'audit', 'instance']);
  assert.match(only(report, 'channels')[0]!.summary, /Telegram token valid: @enclave_test_bot/);
});

test('doctor CLI: exit 0 and the --json shape on a healthy home, exit 1 with the fix on a problem', async (t) => {
  const h = await healthyHome(t);
  const env = { PATH: process.env.PATH, HOME: h.home, ENCLAVE_HOME: h.home };
  const healthy = await runCli(['doctor', '--skip', 'docker,image', '--json'], env);
  assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
  const json = JSON.parse(healthy.stdout) as DoctorReport;
  assert.equal(json.ok, true);
  assert.equal(json.home, h.home);
  for (const c of json.checks) {
    assert.deepEqual(Object.keys(c).sort(), ['check', 'status', 'summary']);
    assert.equal(c.status, 'ok');
  }
  h.setSecret('FAKE_KEY', 'sk-not-the-right-key-0000');
  const broken = await runCli(['doctor', '--skip', 'docker,image'], env);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /✗ providers +provider fake: .* refused the key \(HTTP 401\) — fix: store a valid key: `npx enclave secrets set FAKE_KEY`/);
  assert.match(broken.stdout, /1 problem\(s\) found/);
  assert.ok(!broken.stdout.includes('sk-not-the-right-key-0000') && !broken.stdout.includes(KEY));
  const badSkip = await runCli(['doctor', '--skip', 'nosuch'], env);
  assert.equal(badSkip.code, 2);
  assert.match(badSkip.stderr, /unknown check\(s\) for --skip: nosuch/);
});

test('doctor: an old Node.js', async (t) => {
  const h = await healthyHome(t);
  assertProblem(await doctor(h.home, { nodeVersion: '18.19.0' }), 'node', /Node\.js 18\.19\.0 is too old/, /install Node\.js 20 or newer/);
});

test('doctor: Docker not reachable (and the image check waits for it)', async (t) => {
  const h = await healthyHome(t);
  const report = await doctor(h.home, { docker: () => new Docker({ socketPath: join(h.home, 'no-docker.sock') }) }, []);
  assertProblem(report, 'docker', /Docker Engine is not reachable/, /install Docker Engine.*start it/);
  assert.equal(only(report, 'image')[0]!.status, 'skipped');
});

test('doctor: Docker reachable, the agent image not built for the current sources', { skip: await dockerSkipReason() }, async (t) => {
  const h = await healthyHome(t);
  const report = await doctor(h.home, { agentImageTag: async () => 'enclave-agent:000000000000' }, []);
  assert.equal(only(report, 'docker')[0]!.status, 'ok');
  assertProblem(report, 'image', /agent image .*(out of date|not built yet)/, /npx enclave build-image/);
});

test('doctor: a nearly full disk', async (t) => {
  const h = await healthyHome(t);
  assertProblem(await doctor(h.home, { freeBytes: () => 10 * 1024 * 1024 }), 'disk', /only 10 MB free/, /free at least 512 MB/);
});

test('doctor: a vault key others may read', async (t) => {
  const h = await healthyHome(t);
  const keyFile = join(homePaths(h.home).dataDir, 'vault.key');
  chmodSync(keyFile, 0o644);
  const report = await doctor(h.home);
  assert.equal(report.ok, false);
  assert.ok(only(report, 'permissions').some((p) => p.status === 'problem' && p.summary.includes(`chmod 600 ${keyFile}`)), JSON.stringify(report.checks));
});

test('doctor: a data folder open to other users', async (t) => {
  const h = await healthyHome(t);
  chmodSync(homePaths(h.home).dataDir, 0o755);
  assertProblem(await doctor(h.home), 'permissions', /is open to other users \(mode 755\)/, /chmod 700/);
});

test('doctor: an invalid enclave.yaml names the file, the line and the fix', async (t) => {
  const h = await healthyHome(t);
  h.writeConfig('maxContainers: lots');
  const report = await doctor(h.home);
  assert.equal(report.ok, false);
  const [config] = only(report, 'config');
  assert.equal(config!.status, 'problem');
  assert.match(config!.summary, /enclave\.yaml:10: maxContainers/);
  assert.match(config!.fix!, /give maxContainers a value of the expected type/);
  assert.equal(only(report, 'models')[0]!.status, 'skipped');
});

test('doctor: a provider that refuses its key', async (t) => {
  const h = await healthyHome(t);
  h.setSecret('FAKE_KEY', 'sk-wrong-key-for-doctor-00');
  assertProblem(await doctor(h.home), 'providers', /provider fake: .* refused the key/, /enclave secrets set FAKE_KEY/);
});

test('doctor: a group model the provider does not serve (the shared readiness check)', async (t) => {
  const h = await healthyHome(t);
  writeFileSync(join(h.home, 'groups', 'main', 'group.yaml'), 'chats: [local:main]\nmodel: fake-gone\n');
  assertProblem(await doctor(h.home), 'models', /does not serve model fake-gone .*it serves: fake-mini/, /Set the model/);
});

test('doctor: a group model with no price', async (t) => {
  const h = await healthyHome(t);
  writeFileSync(join(h.home, 'groups', 'main', 'group.yaml'), 'chats: [local:main]\nmodel: fake-free\n');
  h.model.served = { ids: ['fake-mini', 'fake-free'], key: KEY };
  writeFileSync(homePaths(h.home).configFile, `${'providers:\n  - name: fake\n    baseUrl: ' + h.model.baseUrl + '\n    secret: FAKE_KEY\n    prices: {}\n'}defaults: { model: fake-mini }\n`);
  const report = await doctor(h.home);
  assert.equal(report.ok, false);
  assert.ok(only(report, 'models').some((p) => p.status === 'problem' && /fake-free .*has no price/.test(p.summary) && /prices:\n {2}fake-free:/.test(p.fix ?? '')), JSON.stringify(report.checks));
});

test('doctor: a Telegram token the platform refuses', async (t) => {
  const h = await healthyHome(t);
  h.setSecret('TELEGRAM_BOT_TOKEN', '555:not-the-token-of-this-bot');
  assertProblem(await doctor(h.home), 'channels', /Telegram: Telegram does not accept this bot token/, /@BotFather.*enclave secrets set TELEGRAM_BOT_TOKEN/);
});

test('doctor: an edited audit row breaks the chain', async (t) => {
  const h = await healthyHome(t);
  const db = openDatabase(homePaths(h.home).dbFile);
  db.exec('DROP TRIGGER audit_no_update;');
  db.prepare("UPDATE audit SET actor = 'someone' WHERE id = 1").run();
  db.close();
  assertProblem(await doctor(h.home), 'audit', /the audit log was altered at row 1/, /restore data\/enclave\.db/);
});

test('doctor: an instance that holds the lock but does not answer', async (t) => {
  const h = await healthyHome(t);
  writeFileSync(homePaths(h.home).lockFile, `${process.pid}\n`);
  assertProblem(await doctor(h.home), 'instance', new RegExp(`Enclave \\(pid ${process.pid}\\) holds the lock but does not answer`), /npx enclave logs/);
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { callControl } from '../../src/control/control-client.js';
import { startControlServer } from '../../src/control/control-server.js';
import { answerDashboardControl, type DashboardControlAnswer } from '../../src/dashboard/dashboard-control.js';
import { homePaths } from '../../src/paths.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { FakeTelegram, type FakeUser } from '../fakes/fake-telegram.js';
import { runCli } from '../helpers/cli.js';
import { startHarnessBeside, type Harness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { dmWith, telegramEnclaveYaml, telegramSecrets, waitForSentTo } from '../helpers/telegram-host.js';

export const CHROMIUM = '/usr/bin/chromium';
/** A name the browser resolves to this machine: a page on it stands for a DNS-rebinding attacker's site. */
export const REBIND_NAME = 'rebind.test';

export const XSS_NAME = '<img src=x onerror="window.__xss=1">';
export const STRANGER: FakeUser = { id: 4202, is_bot: false, first_name: XSS_NAME };

export interface DashboardHost {
  h: Harness;
  fake: FakeTelegram;
  /** Moves the host's clock forward. */
  advance(ms: number): void;
  /** The host's clock. */
  now(): number;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** A login link printed by `enclave dashboard` (the CLI, asking the host over its control socket). */
  loginLink(): Promise<string>;
  /** Runs `enclave dashboard <args>` against this host. */
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  control(body: unknown): Promise<DashboardControlAnswer>;
  strangerCode: string;
  browser: Browser;
  context: BrowserContext;
  /** Every text answer the browser got from the dashboard, for the secret grep. */
  answers: { url: string; body: string }[];
  /** Requests the browser made anywhere but the dashboard. */
  elsewhere: string[];
}

export function screenshotDir(): string {
  const dir = join(tmpdir(), 'enclave-dashboard-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

/**
 * A host with two groups (main on local:main; ops on local:ops and the stranger's Telegram DM), spend
 * and audit rows from one turn in each, a scheduled task, a pending pairing from a stranger's DM
 * through the fake Telegram, the dashboard on a free loopback port, and Debian's Chromium.
 */
export async function startDashboardHost(t: TestContext): Promise<DashboardHost> {
  const fake = await FakeTelegram.start();
  let shift = 0;
  const h = await startHarnessBeside(t, fake, {
    enclaveYaml: telegramEnclaveYaml(fake, 'dashboard: { enabled: true, port: 0 }\nbudgets: { global: { dailyUsd: 5 } }'),
    secrets: telegramSecrets(fake),
    groups: {
      main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n',
      ops: `chats: [local:ops, telegram:${STRANGER.id}]\nrequireTrigger: false\nmodel: fake-model\nfallbacks: [fake-model-b]\nwebAllowlist: [en.wikipedia.org]\n`,
    },
    start: { runtime: new InProcessRuntime(), clock: () => Date.now() + shift },
  });
  const dashboard = h.app.dashboard;
  if (!dashboard) throw new Error('the dashboard did not start');
  // The agent's memory may hold anything, markup and (by a bug) a key included: shown as text, the key never.
  writeFileSync(join(h.home, 'groups', 'ops', 'memory', 'notes.md'), `# Notes\n${XSS_NAME}\n![pixel](http://127.0.0.1:9/pixel.png)\nkey by mistake: ${h.canary}\n`);
  await h.say('main', 'hello from main');
  await h.say('ops', 'hello from ops');
  new TaskStore(h.app.db, h.app.audit).create({
    group: 'ops', channel: 'local', chatId: 'ops', prompt: `Daily digest ${XSS_NAME}`, kind: 'interval', spec: '1d', timezone: 'UTC', createdBy: 'cli', nextRunAt: Date.now() + 86_400_000,
  });
  fake.pushMessage({ chat: dmWith(STRANGER), from: STRANGER, text: 'hi, let me in' });
  const [reply] = await waitForSentTo(fake, dmWith(STRANGER));
  const strangerCode = /pairing code is ([A-Z2-9]{8})\b/.exec(reply!)?.[1];
  if (!strangerCode) throw new Error(`no pairing code in: ${reply}`);

  const socket = homePaths(h.home).controlSocket;
  const control = await startControlServer(socket, () => h.app.config, h.app.local, {
    reload: () => h.app.reloadGroups(),
    status: () => h.app.status(),
    dashboard: (req) => answerDashboardControl(h.app.dashboard, req),
  });
  t.after(() => void control.close());

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--host-resolver-rules=MAP ${REBIND_NAME} 127.0.0.1`],
  });
  t.after(() => browser.close());
  const context = await browser.newContext();
  const answers: DashboardHost['answers'] = [];
  const elsewhere: string[] = [];
  const origin = dashboard.origin.origin;
  context.on('request', (req) => {
    if (!req.url().startsWith(`${origin}/`) && req.url() !== 'about:blank') elsewhere.push(req.url());
  });
  context.on('response', async (res) => {
    if (!res.url().startsWith(origin) || res.url().includes('/assets/')) return;
    answers.push({ url: res.url(), body: await res.text().catch(() => '') });
  });
  const ask = (body: unknown) => callControl<DashboardControlAnswer>(socket, 'POST', '/dashboard', body);
  return {
    h, fake, origin, strangerCode, browser, context, answers, elsewhere,
    advance: (ms) => void (shift += ms),
    now: () => Date.now() + shift,
    control: ask,
    cli: (...args) => runCli(['dashboard', ...args], { PATH: process.env.PATH, ENCLAVE_HOME: h.home }),
    loginLink: async () => {
      const { stdout, stderr } = await runCli(['dashboard'], { PATH: process.env.PATH, ENCLAVE_HOME: h.home });
      const link = /http:\/\/\S+\/login#\S+/.exec(stdout)?.[0];
      if (!link) throw new Error(`no login link from \`enclave dashboard\`: ${stdout}${stderr}`);
      return link;
    },
  };
}

/** Opens the login link in a page and waits for the Overview. */
export async function logIn(host: DashboardHost, page: Page): Promise<void> {
  // From /login, a link that differs only in its fragment would not load the page again.
  await page.goto('about:blank');
  await page.goto(await host.loginLink());
  await page.waitForURL(`${host.origin}/`);
}

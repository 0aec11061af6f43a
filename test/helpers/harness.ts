import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import type { LocalExchange } from '../../channels/local/local-channel.js';
import { Enclave, type EnclaveOptions } from '../../src/app.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { homePaths } from '../../src/paths.js';
import { Vault } from '../../src/vault/vault.js';
import { FakeModel } from '../fakes/fake-model.js';

export interface Harness {
  home: string;
  app: Enclave;
  model: FakeModel;
  canary: string;
  env: NodeJS.ProcessEnv;
  /** Types a message into a local chat and waits for everything it caused. */
  say(chatId: string, text: string): Promise<LocalExchange>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** group name -> group.yaml text; defaults to a `main` group on local:main. */
  groups?: Record<string, string>;
  enclaveYaml?: string;
  /** Leave the provider env out, to see the no-provider answer. */
  noProvider?: boolean;
  log?: Logger;
  /** Passed to Enclave.start as they are. */
  start?: Partial<Pick<EnclaveOptions, 'clock' | 'schedulerTimer' | 'liveTimers' | 'webFetch' | 'whatsappSocketFactory' | 'onWhatsAppQr' | 'runtime' | 'onChannelSettled' | 'mediaTimeout'>>;
  /** Stored in the home's encrypted vault before the host starts (channel tokens, provider keys). */
  secrets?: Record<string, string>;
  /** Extra environment for the host (e.g. ENCLAVE_VAULT_KEY). */
  env?: NodeJS.ProcessEnv;
  /** Return from the start without waiting for the channels' first connection attempts. */
  channelsInBackground?: boolean;
}

/** The fake model needs a price: the proxy refuses models without one. */
export const DEFAULT_ENCLAVE_YAML = 'prices:\n  fake-model: { input: 1, cachedInput: 0.5, output: 2 }\n';

export function makeHome(opts: HarnessOptions = {}): string {
  // Short path: Unix socket paths must stay under 108 bytes.
  const home = mkdtempSync(join(tmpdir(), 'enc-'));
  const groups = opts.groups ?? { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n' };
  mkdirSync(join(home, 'groups', 'global', 'memory'), { recursive: true });
  writeFileSync(join(home, 'groups', 'global', 'memory', 'GLOBAL.md'), '# Global memory\nThe team motto is: small and sharp.\n');
  for (const [name, yaml] of Object.entries(groups)) {
    mkdirSync(join(home, 'groups', name, 'memory'), { recursive: true });
    writeFileSync(join(home, 'groups', name, 'group.yaml'), yaml);
    writeFileSync(join(home, 'groups', name, 'memory', 'MEMORY.md'), `# Memory of ${name}\n`);
  }
  const yaml = opts.enclaveYaml ?? '';
  writeFileSync(join(home, 'enclave.yaml'), /^prices:/m.test(yaml) ? yaml : `${yaml}${yaml && !yaml.endsWith('\n') ? '\n' : ''}${DEFAULT_ENCLAVE_YAML}`);
  return home;
}

/** Writes secrets the way `enclave secrets set` does: into the home's vault, encrypted. */
export function storeSecrets(home: string, secrets: Record<string, string>, env: NodeJS.ProcessEnv = {}): void {
  const paths = homePaths(home);
  const db = openDatabase(paths.dbFile);
  try {
    const vault = Vault.open(db, { dataDir: paths.dataDir, env, actor: 'cli' });
    for (const [name, value] of Object.entries(secrets)) vault.set(name, value);
  } finally {
    db.close();
  }
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const home = makeHome(opts);
  const model = await FakeModel.start();
  const canary = `sk-canary-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const env: NodeJS.ProcessEnv = opts.noProvider
    ? { PATH: process.env.PATH }
    : { PATH: process.env.PATH, OPENAI_API_KEY: canary, OPENAI_BASE_URL: model.baseUrl };
  Object.assign(env, opts.env);
  if (opts.secrets) storeSecrets(home, opts.secrets, env);
  const log = opts.log ?? silentLogger();
  // Channels connect in the background; tests that drive a platform want its first attempt over.
  const boot = async () => {
    const app = await Enclave.start({ home, env, log, restartBackoffMs: 50, ...opts.start });
    if (!opts.channelsInBackground) await app.channelsSettled();
    return app;
  };
  const h: Harness = {
    home,
    app: await boot(),
    model,
    canary,
    env,
    say: (chatId, text) => h.app.local.ask(chatId, text),
    async restart() {
      await h.app.stop();
      h.app = await boot();
    },
    async stop() {
      await h.app.stop().catch(() => undefined);
      await model.close();
      // rm -rf copes with trees deeper than a recursive rmSync can walk.
      execFileSync('rm', ['-rf', home]);
    },
  };
  return h;
}

/**
 * startHarness for a test that also runs a fake (a platform, a web server): the fake is closed if
 * the start fails, and after the test the host stops first, so no channel sees its platform vanish.
 */
export async function startHarnessBeside(t: TestContext, fake: { close(): Promise<unknown> }, opts: HarnessOptions): Promise<Harness> {
  const h = await startHarness(opts).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });
  t.after(async () => {
    await h.stop();
    await fake.close();
  });
  return h;
}

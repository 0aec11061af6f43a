/** A host for the bench: a temporary home, real Docker containers unless told otherwise, a quiet logger. */
import { execFileSync } from 'node:child_process';
import { request } from 'undici';
import { Enclave } from '../../src/app.js';
import { DockerRuntime } from '../../src/container/docker-runtime.js';
import type { ContainerRuntime } from '../../src/container/runtime.js';
import { silentLogger } from '../../src/logger.js';
import type { FakeModel } from '../fakes/fake-model.js';
import { makeHome, storeSecrets, type HarnessOptions } from '../helpers/harness.js';
import { percentile } from './stats.js';

export interface BenchHost {
  app: Enclave;
  home: string;
  stop(): Promise<void>;
}

export async function startBenchHost(model: FakeModel, opts: Pick<HarnessOptions, 'groups' | 'enclaveYaml' | 'secrets'> & { runtime?: ContainerRuntime } = {}): Promise<BenchHost> {
  const home = makeHome(opts);
  const env = { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: model.baseUrl };
  if (opts.secrets) storeSecrets(home, opts.secrets, env);
  const runtime = opts.runtime ?? (await DockerRuntime.connect());
  const app = await Enclave.start({ home, env, log: silentLogger(), runtime });
  return {
    app,
    home,
    async stop() {
      await app.stop().catch(() => undefined);
      execFileSync('rm', ['-rf', home]);
    },
  };
}

/** Submits to a local chat; resolves with submit -> settled time, or throws when the turn was not answered. */
export async function localTurn(app: Enclave, chatId: string, text: string): Promise<number> {
  const started = performance.now();
  const outcome = await (await app.local.submit(chatId, text)).settled;
  if (outcome !== 'answered') throw new Error(`bench turn in ${chatId} was not answered: ${outcome}`);
  return performance.now() - started;
}

/** p50 of calling the fake model directly, not streamed: the model's own share of a turn. */
export async function directModelCall(model: FakeModel, calls: number): Promise<number> {
  const body = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'direct' }] });
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    const res = await request(`${model.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.body.text();
    times.push(performance.now() - start);
  }
  return percentile(times, 50);
}

import { isLoopbackUrl, providerFor } from '../config/providers.js';
import type { ProviderConfig } from '../config/schema.js';
import { PROVIDER_PRESETS, presetById, presetForUrl, type ProviderPreset } from './provider-presets.js';
import { listProviderModels, type ModelList } from '../services/provider-models.js';
import { SetupError, type SetupContext } from './setup-context.js';

export interface ChosenProvider {
  preset: ProviderPreset;
  /** The provider's name in enclave.yaml (an existing one keeps its name). */
  name: string;
  baseUrl: string;
  secret?: string;
  /** The key to use for this run's requests; undefined for keyless servers. */
  key?: string;
  models: ModelList;
  /** On this machine (a local preset or a loopback URL): price 0 by default. */
  local: boolean;
}

/** The provider that serves the current default model: what a re-run shows as the default. */
export function currentProvider(ctx: SetupContext): ProviderConfig | undefined {
  const cfg = ctx.config();
  return providerFor(cfg.enclave.providers, cfg.enclave.defaults.model) ?? cfg.enclave.providers[0];
}

export async function chooseProvider(ctx: SetupContext): Promise<ChosenProvider> {
  const current = currentProvider(ctx);
  const preset = await pickPreset(ctx, current);
  const sameAsCurrent = current && (preset.id === 'custom' ? !presetForUrl(current.baseUrl) : presetForUrl(current.baseUrl)?.id === preset.id);
  const baseUrl = ctx.flags.baseUrl ?? (await pickUrl(ctx, preset, sameAsCurrent ? current : undefined));
  const name = sameAsCurrent ? current.name : preset.id;
  const secret = preset.local ? undefined : (sameAsCurrent ? current.secret : undefined) ?? preset.secret;
  const { key, models, secret: used } = await obtainKey(ctx, baseUrl, secret, preset.id === 'custom');
  return { preset, name, baseUrl, secret: used, key, models, local: preset.local || isLoopbackUrl(baseUrl) };
}

async function pickPreset(ctx: SetupContext, current: ProviderConfig | undefined): Promise<ProviderPreset> {
  if (ctx.flags.provider) {
    const preset = presetById(ctx.flags.provider);
    if (!preset) throw new SetupError(`unknown provider "${ctx.flags.provider}"; use one of: ${PROVIDER_PRESETS.map((p) => p.id).join(', ')}`);
    return preset;
  }
  const currentPreset = current ? (presetForUrl(current.baseUrl) ?? presetById('custom')!) : undefined;
  if (!ctx.interactive) {
    if (currentPreset) return currentPreset;
    throw new SetupError(`no provider is configured yet; pass --provider (${PROVIDER_PRESETS.map((p) => p.id).join(', ')})`);
  }
  ctx.say('Which model provider should answer?');
  const index = currentPreset ? PROVIDER_PRESETS.indexOf(currentPreset) : 0;
  return ctx.prompt.choose('Provider', PROVIDER_PRESETS.map((p) => ({ label: p.label, value: p })), index, (answer) => presetById(answer.toLowerCase()));
}

async function pickUrl(ctx: SetupContext, preset: ProviderPreset, current: ProviderConfig | undefined): Promise<string> {
  const def = current?.baseUrl ?? preset.baseUrl;
  if (!ctx.interactive) {
    if (def) return def;
    throw new SetupError('the custom provider needs its URL: pass --base-url, e.g. --base-url http://localhost:4000/v1');
  }
  for (;;) {
    const url = await ctx.prompt.ask(preset.id === 'custom' ? 'Base URL of the OpenAI-compatible API (usually ends in /v1)' : 'Base URL', def);
    if (/^https?:\/\/\S+$/.test(url)) return url.replace(/\/+$/, '');
    ctx.say('Write a full URL such as http://localhost:4000/v1.');
  }
}

/**
 * The key: from --key-from-env, the vault (kept on Enter), or typed without echo; stored in the vault.
 * A key the provider refuses is asked again (or fails the run when flags drive it).
 */
async function obtainKey(ctx: SetupContext, baseUrl: string, secret: string | undefined, optional: boolean): Promise<{ key?: string; secret?: string; models: ModelList }> {
  if (!secret) {
    ctx.say(`Checking ${baseUrl} ...`);
    return { models: await listProviderModels(baseUrl, undefined) };
  }
  for (let attempt = 1; ; attempt++) {
    const { key, fresh } = await readKey(ctx, secret, attempt, optional);
    if (!key) return obtainKey(ctx, baseUrl, undefined, optional);
    ctx.say(`Checking the key with ${baseUrl} ...`);
    const models = await listProviderModels(baseUrl, key);
    if (models.ok || models.kind !== 'key_rejected') {
      if (fresh) {
        ctx.store(secret, key);
        ctx.say(`Saved the key in the vault as ${secret} (encrypted; enclave secrets list shows it).`);
      }
      return { key, secret, models };
    }
    if (!ctx.interactive || attempt >= 3) throw new SetupError(`${models.problem}; nothing was saved. Fix: ${models.fix}`);
    ctx.say(`${models.problem}. ${models.fix}.`);
  }
}

async function readKey(ctx: SetupContext, secret: string, attempt: number, optional: boolean): Promise<{ key: string; fresh: boolean }> {
  if (ctx.flags.keyFromEnv) return { key: ctx.fromEnv(ctx.flags.keyFromEnv, 'the provider key'), fresh: true };
  const stored = ctx.secret(secret);
  if (stored && attempt === 1) {
    if (!ctx.interactive || !(await ctx.prompt.confirm(`A key is already set as ${secret}. Replace it?`, false))) return { key: stored, fresh: false };
  }
  if (!ctx.interactive) throw new SetupError(`no key for this provider: pass --key-from-env VAR (VAR holding the key), or store it first with \`enclave secrets set ${secret}\``);
  for (;;) {
    const key = await ctx.prompt.secret(`Paste the API key (it is stored encrypted as ${secret}${optional ? '; Enter if the server needs none' : ''})`);
    if (key || optional) return { key, fresh: key !== '' };
    ctx.say('No key was pasted. Paste it and press Enter (Ctrl-C cancels).');
  }
}

import { failoverModels } from '../proxy/failover.js';
import { listProviderModels } from './provider-models.js';
import type { Config } from '../config/load.js';
import { isLoopbackUrl, providerFor } from '../config/providers.js';
import type { ProviderConfig } from '../config/schema.js';
import { priceFor } from '../ledger/pricing.js';
import type { ModelPrice } from '../ledger/types.js';

/*
 * Whether every model a group may use can answer: a provider serves it, it has a price, the
 * provider's key is stored; and, when asked (it makes network calls), that the provider answers
 * and lists the model. `enclave start` runs the offline part, `enclave doctor` both, and a turn
 * whose model cannot answer gets the same sentence instead of a refusal at the first message.
 */

export type ModelProblemKind = 'no_provider' | 'no_price' | 'no_key' | 'unreachable' | 'key_refused' | 'not_served';

export interface ModelProblem {
  kind: ModelProblemKind;
  model: string;
  /** The groups whose model or fallbacks name it ('transcription' for the transcription model). */
  usedBy: string[];
  /** The provider's name in enclave.yaml ('env' for OPENAI_API_KEY / OPENAI_BASE_URL). */
  provider?: string;
  /** One sentence for people: what is wrong. */
  problem: string;
  /** What to do next: the command to run, or the YAML to paste. */
  fix: string;
}

export interface ModelUse {
  model: string;
  usedBy: string[];
}

export interface ReadinessOptions {
  /** Whether a secret is set (vault first, then the environment). */
  hasSecret: (name: string) => boolean;
  /** The model used to transcribe voice messages, when one is configured. */
  transcriptionModel?: string;
  /** A known price for a model (a shipped price table), used to fill in the YAML to paste. */
  knownPrice?: (model: string) => ModelPrice | undefined;
}

export interface OnlineOptions {
  /** The secret's value (vault first, then the environment); sent to the provider only. */
  secret: (name: string) => string | undefined;
  transcriptionModel?: string;
  /** How long to wait for each provider; default its timeoutSeconds, at most 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Every model in use, each once, with who uses it. */
export function modelsInUse(cfg: Config, transcriptionModel?: string): ModelUse[] {
  const uses = new Map<string, string[]>();
  const add = (model: string, user: string) => uses.set(model, [...(uses.get(model) ?? []), user]);
  for (const group of cfg.groups.values()) for (const model of group.allowedModels) add(model, group.name);
  if (transcriptionModel) add(transcriptionModel, 'transcription');
  return [...uses].map(([model, usedBy]) => ({ model, usedBy }));
}

function usedByText(usedBy: readonly string[]): string {
  const groups = usedBy.filter((u) => u !== 'transcription');
  const parts = [...(groups.length ? [`group${groups.length > 1 ? 's' : ''} ${groups.join(', ')}`] : []), ...(usedBy.includes('transcription') ? ['transcription'] : [])];
  return parts.join(' and ');
}

function yamlKey(model: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(model) ? model : JSON.stringify(model);
}

/**
 * One line of the top-level `prices:` map. A model on this machine may be free; for any other with
 * no known price the line holds placeholders the config check refuses, never a guessed number.
 */
export function priceYamlLine(model: string, price: ModelPrice | undefined, local: boolean): string {
  if (!price && local) return `  ${yamlKey(model)}: { input: 0, output: 0 }   # a model on this machine costs nothing`;
  if (!price) return `  ${yamlKey(model)}: { input: <USD per 1M input tokens>, output: <USD per 1M output tokens> }   # from the provider's price page`;
  const fields = Object.entries({ input: price.input, cachedInput: price.cachedInput, output: price.output }).filter(([, v]) => v !== undefined);
  return `  ${yamlKey(model)}: { ${fields.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
}

/** Which models the configured providers list, for "no provider serves X". */
function servedListText(providers: readonly ProviderConfig[]): string {
  return providers.map((p) => `provider ${p.name} serves ${p.models?.length ? p.models.join(', ') : 'any model'}`).join('; ');
}

function noProvider(cfg: Config, use: ModelUse): ModelProblem {
  if (cfg.providers.length === 0) {
    return {
      kind: 'no_provider',
      ...use,
      problem: `No model provider is configured, so model ${use.model} (${usedByText(use.usedBy)}) cannot answer.`,
      fix:
        'Store a key with `enclave secrets set OPENAI_API_KEY` (or set OPENAI_API_KEY, and OPENAI_BASE_URL for another OpenAI-compatible endpoint, in the environment), ' +
        'or add a provider to enclave.yaml; then restart Enclave.',
    };
  }
  return {
    kind: 'no_provider',
    ...use,
    problem: `No provider serves model ${use.model} (${usedByText(use.usedBy)}): ${servedListText(cfg.providers)}.`,
    fix: `Add ${use.model} to a provider's models in enclave.yaml, or set the model in groups/<name>/group.yaml to one the providers serve; then restart Enclave.`,
  };
}

/** The checks that need no network: provider, price, key. */
export function checkModelsOffline(cfg: Config, opts: ReadinessOptions): ModelProblem[] {
  return offlineProblems(cfg, modelsInUse(cfg, opts.transcriptionModel), opts);
}

/** The models a turn of the group on this model may end up calling (the proxy's failover order), with who uses each. */
function turnUses(cfg: Config, group: string, model: string): ModelUse[] {
  const g = cfg.groups.get(group);
  const chain = g ? failoverModels(g, model) : [model];
  const uses = modelsInUse(cfg);
  return chain.flatMap((m) => uses.filter((u) => u.model === m));
}

function offlineProblems(cfg: Config, uses: readonly ModelUse[], opts: ReadinessOptions): ModelProblem[] {
  const problems: ModelProblem[] = [];
  for (const use of uses) {
    const provider = providerFor(cfg.providers, use.model);
    if (!provider) {
      problems.push(noProvider(cfg, use));
      continue;
    }
    if (provider.secret && !opts.hasSecret(provider.secret)) {
      problems.push({
        kind: 'no_key',
        ...use,
        provider: provider.name,
        problem: `Provider ${provider.name} needs the key ${provider.secret} for model ${use.model} (${usedByText(use.usedBy)}), and it is neither in the vault nor in the environment.`,
        fix: `Run \`enclave secrets set ${provider.secret}\` (it reads the key from stdin), then restart Enclave.`,
      });
    }
    if (!priceFor(provider, use.model, cfg.enclave.prices)) {
      problems.push({
        kind: 'no_price',
        ...use,
        provider: provider.name,
        problem: `Model ${use.model} (${usedByText(use.usedBy)}) has no price, so every call to it is refused.`,
        fix: `Add to enclave.yaml (${cfg.paths.configFile}), then restart Enclave:\nprices:\n${priceYamlLine(use.model, opts.knownPrice?.(use.model), isLoopbackUrl(provider.baseUrl))}`,
      });
    }
  }
  return problems;
}

/**
 * Why a turn of the group on this model cannot answer, following the proxy's failover: a model with
 * no provider or no key is passed over for the next one, a model with no price is refused. Empty
 * when some model in the chain can be called.
 */
export function turnModelProblems(cfg: Config, group: string, model: string, opts: ReadinessOptions): ModelProblem[] {
  const seen: ModelProblem[] = [];
  for (const use of turnUses(cfg, group, model)) {
    const own = offlineProblems(cfg, [use], opts);
    seen.push(...own);
    if (own.some((p) => p.kind === 'no_price') && !own.some((p) => p.kind === 'no_key' || p.kind === 'no_provider')) return seen;
    if (own.length === 0) return [];
  }
  return seen;
}

/** The problems for one group only (a turn's own check). */
export function groupModelProblems(cfg: Config, group: string, opts: ReadinessOptions): ModelProblem[] {
  return offlineProblems(cfg, modelsInUse(cfg).filter((u) => u.usedBy.includes(group)), opts);
}

interface ServedModels {
  ok: true;
  ids: string[];
}
type ModelsAnswer = ServedModels | { ok: false; problem: Omit<ModelProblem, 'model' | 'usedBy'> } | { ok: 'unknown' };

const MAX_LISTED = 20;

/** A provider's URL as people may read it: never a user name or password written into it. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

async function servedModels(provider: ProviderConfig, opts: OnlineOptions): Promise<ModelsAnswer> {
  const key = provider.secret ? opts.secret(provider.secret) : undefined;
  const timeoutMs = opts.timeoutMs ?? Math.min(provider.timeoutSeconds, 10) * 1000;
  const list = await listProviderModels(provider.baseUrl, key, timeoutMs, opts.fetch);
  if (list.ok) return { ok: true, ids: list.models };
  const where = `Provider ${provider.name} at ${displayUrl(provider.baseUrl)}`;
  if (list.kind === 'unreachable') {
    return {
      ok: false,
      problem: {
        kind: 'unreachable',
        provider: provider.name,
        problem: list.timedOut ? `${where} did not answer within ${Math.round(timeoutMs / 1000)} s.` : `${where} is unreachable.`,
        fix: `Check that the server at ${displayUrl(provider.baseUrl)} is running and that this machine can reach it (for a local server: is it started?).`,
      },
    };
  }
  if (list.kind === 'key_rejected') {
    return {
      ok: false,
      problem: {
        kind: 'key_refused',
        provider: provider.name,
        problem: `${where} refused ${provider.secret ? `the key ${provider.secret}` : 'the request without a key'}.`,
        fix: provider.secret ? `Store a valid key with \`enclave secrets set ${provider.secret}\`, then restart Enclave.` : `Set \`secret:\` for provider ${provider.name} in enclave.yaml and store the key with \`enclave secrets set <NAME>\`.`,
      },
    };
  }
  return { ok: 'unknown' };
}

/** Ollama lists `llama3.2:latest` and answers to `llama3.2`. */
export function serves(ids: readonly string[], model: string): boolean {
  return ids.includes(model) || ids.includes(`${model}:latest`);
}

/**
 * The network checks: each provider in use answers GET <baseUrl>/models with its key, and lists
 * the models asked of it. A provider that has no such list (or answers it with an error other than
 * a refused key) is not held against it.
 */
export async function checkProvidersOnline(cfg: Config, opts: OnlineOptions, uses = modelsInUse(cfg, opts.transcriptionModel)): Promise<ModelProblem[]> {
  const byProvider = new Map<ProviderConfig, ModelUse[]>();
  for (const use of uses) {
    const provider = providerFor(cfg.providers, use.model);
    if (provider && !(provider.secret && !opts.secret(provider.secret))) byProvider.set(provider, [...(byProvider.get(provider) ?? []), use]);
  }
  const answers = await Promise.all([...byProvider].map(async ([provider, uses]) => ({ provider, uses, answer: await servedModels(provider, opts) })));
  const problems: ModelProblem[] = [];
  for (const { provider, uses, answer } of answers) {
    if (answer.ok === 'unknown') continue;
    if (answer.ok === false) {
      for (const use of uses) problems.push({ ...answer.problem, ...use });
      continue;
    }
    for (const use of uses.filter((u) => !serves(answer.ids, u.model))) {
      const listed = answer.ids.length === 0 ? 'no models' : `${answer.ids.slice(0, MAX_LISTED).join(', ')}${answer.ids.length > MAX_LISTED ? ` and ${answer.ids.length - MAX_LISTED} more` : ''}`;
      problems.push({
        kind: 'not_served',
        ...use,
        provider: provider.name,
        problem: `Provider ${provider.name} at ${displayUrl(provider.baseUrl)} does not serve model ${use.model} (${usedByText(use.usedBy)}); it serves: ${listed}.`,
        fix: `Set the model in groups/<name>/group.yaml (or ENCLAVE_MODEL) to one it serves, or make the provider serve ${use.model} (for Ollama: \`ollama pull ${use.model}\`).`,
      });
    }
  }
  return problems;
}

/**
 * After a turn failed: the network checks for the models the turn could have used, so the chat
 * hears that a provider is unreachable (and where) or does not serve the model (and what it does).
 */
export async function turnOnlineProblems(cfg: Config, group: string, model: string, opts: OnlineOptions): Promise<ModelProblem[]> {
  return checkProvidersOnline(cfg, opts, turnUses(cfg, group, model));
}

/** For the terminal: each problem and its fix, the missing prices as one YAML block to paste. */
export function readinessLines(problems: readonly ModelProblem[], configFile: string): string[] {
  const lines: string[] = [];
  for (const p of problems.filter((x) => x.kind !== 'no_price')) lines.push(`Warning: ${p.problem} ${p.fix}`);
  const unpriced = problems.filter((x) => x.kind === 'no_price');
  if (unpriced.length > 0) {
    lines.push(`Warning: ${unpriced.length === 1 ? `model ${unpriced[0]!.model} has` : `models ${unpriced.map((p) => p.model).join(', ')} have`} no price, so calls to ${unpriced.length === 1 ? 'it' : 'them'} are refused. Add to ${configFile}, then restart Enclave:`);
    lines.push('prices:', ...unpriced.map((p) => p.fix.split('\n').at(-1)!));
  }
  return lines;
}

/** For a chat: why the turn's model cannot answer and what to do, in sentences. */
export function modelProblemReply(problems: readonly ModelProblem[]): string {
  return `Sorry, I could not answer that. ${problems.map((p) => `${p.problem} ${p.fix}`).join(' ')}`;
}

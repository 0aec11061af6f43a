import type { ModelPriceConfig } from '../config/schema.js';
import { serves } from '../services/model-readiness.js';
import { PRICE_SNAPSHOT_DATE, snapshotPrice } from './price-snapshot.js';
import type { ChosenProvider } from './provider-step.js';
import { SetupError, type SetupContext } from './setup-context.js';

const LISTED_AT_MOST = 40;

export async function chooseModel(ctx: SetupContext, provider: ChosenProvider): Promise<string> {
  const served = provider.models.ok ? provider.models.models : undefined;
  if (!provider.models.ok) ctx.say(`Could not list the models: ${provider.models.problem}. ${provider.models.fix}.`);
  const currentModel = ctx.config().enclave.defaults.model;
  const def = ctx.flags.model ?? [currentModel, provider.preset.suggestedModel].find((m) => m && (!served || serves(served, m))) ?? served?.[0] ?? '';
  if (!ctx.interactive || ctx.flags.model) {
    if (!def) throw new SetupError('no model chosen: pass --model');
    if (served && !serves(served, def)) throw new SetupError(`${provider.baseUrl} does not serve the model ${def}; it serves: ${served.slice(0, LISTED_AT_MOST).join(', ')}. Pass one of them with --model`);
    return def;
  }
  if (served) {
    ctx.say(`The provider serves ${served.length} model(s)${served.length > LISTED_AT_MOST ? `; the first ${LISTED_AT_MOST}` : ''}:`);
    for (const m of served.slice(0, LISTED_AT_MOST)) ctx.say(`  ${m}`);
  }
  for (;;) {
    const model = await ctx.prompt.ask('Model', def);
    if (!model) {
      ctx.say('Type a model name.');
      continue;
    }
    if (served && !serves(served, model)) {
      ctx.say(`The provider does not list ${model}. Type one of the names above.`);
      continue;
    }
    return model;
  }
}

/** The model's price: flags, then enclave.yaml, then the shipped snapshot (local: 0); confirmed or typed. */
export async function choosePrice(ctx: SetupContext, provider: ChosenProvider, model: string): Promise<ModelPriceConfig> {
  const f = ctx.flags;
  if (f.inputPrice !== undefined || f.outputPrice !== undefined) {
    if (f.inputPrice === undefined || f.outputPrice === undefined) throw new SetupError('give both --input-price and --output-price (USD per 1M tokens; 0 for a local model)');
    return { input: f.inputPrice, output: f.outputPrice, ...(f.cachedInputPrice !== undefined ? { cachedInput: f.cachedInputPrice } : {}) };
  }
  const cfg = ctx.config().enclave;
  const configured = cfg.providers.find((p) => p.name === provider.name)?.prices[model] ?? cfg.prices[model];
  const snapshot = snapshotPrice(model);
  const known = configured ?? snapshot ?? (provider.local ? { input: 0, output: 0 } : undefined);
  const source = configured ? 'from your enclave.yaml' : snapshot ? `from the price snapshot of ${PRICE_SNAPSHOT_DATE} shipped with Enclave; check the provider's price page` : 'a local model costs nothing';
  if (!ctx.interactive) {
    if (known) return known;
    throw new SetupError(`there is no known price for ${model}: pass --input-price and --output-price (USD per 1M tokens, from the provider's price page)`);
  }
  if (known) {
    ctx.say(`Price of ${model} in USD per 1M tokens: input ${known.input}, output ${known.output} (${source}).`);
    if (await ctx.prompt.confirm('Use this price?', true)) return known;
  } else {
    ctx.say(`Enclave does not know the price of ${model}. Every call is refused until it has one (0 for a free or local model).`);
  }
  const input = await askUsd(ctx, 'Input price, USD per 1M tokens', known?.input);
  const output = await askUsd(ctx, 'Output price, USD per 1M tokens', known?.output);
  return { input, output };
}

export async function askUsd(ctx: SetupContext, question: string, def: number | undefined): Promise<number> {
  for (;;) {
    const answer = await ctx.prompt.ask(question, def === undefined ? undefined : String(def));
    const value = Number(answer);
    if (answer !== '' && Number.isFinite(value) && value >= 0) return value;
    ctx.say('Type a number of US dollars, 0 or more (e.g. 0.15).');
  }
}

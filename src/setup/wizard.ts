import { InstanceLock } from '../instance-lock.js';
import { formatUsd } from '../ledger/money.js';
import { chooseOwner, connectChannels } from './channel-step.js';
import { askUsd, chooseModel, choosePrice } from './model-step.js';
import { chooseProvider, type ChosenProvider } from './provider-step.js';
import { SetupContext, SetupError, type SetupFlags, type SetupIo } from './setup-context.js';
import { testCallThroughProxy } from './test-call.js';

/**
 * `enclave setup`: provider, key, model, price, a test call through the proxy, budgets, channels and
 * the owner, each saved to enclave.yaml as soon as it is decided. A re-run shows the current values as
 * defaults and changes only what is answered differently.
 */
export async function runSetupWizard(flags: SetupFlags, io: SetupIo): Promise<void> {
  const ctx = new SetupContext(flags, io);
  try {
    ctx.say(`Setting up Enclave in ${ctx.paths.home} (ENCLAVE_HOME). Press Enter to keep the value in [brackets].`);
    ctx.say();
    const provider = await chooseProvider(ctx);
    const model = await chooseModel(ctx, provider);
    const price = await choosePrice(ctx, provider, model);
    ctx.file.upsertProvider({ name: provider.name, baseUrl: provider.baseUrl, secret: provider.secret, model, price, comment: `${provider.preset.label}, added by enclave setup` });
    ctx.file.set(['defaults', 'model'], model, ' the model every group uses unless its group.yaml names another');
    ctx.save();
    ctx.say(`✓ ${model} from ${provider.name} saved in ${ctx.paths.configFile}.`);
    if (flags.testCall !== false) await testCall(ctx, provider, model);
    await setBudgets(ctx);
    ctx.say();
    const connected = await withChannelsFree(ctx, () => connectChannels(ctx), []);
    if (connected.length > 0 || flags.owner || flags.ownerFrom) await withChannelsFree(ctx, () => chooseOwner(ctx, connected), undefined);
    ctx.say();
    ctx.say('Setup is complete. Next:');
    ctx.say('  npx enclave start      # the bot, with a chat prompt in this terminal');
    ctx.say('  npx enclave doctor     # checks everything, one line each');
    if (connected.includes('telegram')) ctx.say('  Then add the bot to a Telegram group and send /register <name> there (as an owner).');
  } finally {
    ctx.close();
  }
}

async function testCall(ctx: SetupContext, provider: ChosenProvider, model: string): Promise<void> {
  ctx.say(`Test call to ${model} through the credential proxy and the budget ledger ...`);
  try {
    const result = await testCallThroughProxy({ config: ctx.config(), db: ctx.db, secret: ctx.secret, secretValues: ctx.secretValues, model, log: ctx.log });
    ctx.say(
      `✓ "${result.answer.slice(0, 60)}" in ${(result.latencyMs / 1000).toFixed(2)} s; cost ${formatUsd(result.settledMicros)} ` +
        `(reserved ${formatUsd(result.reservedMicros)} first, charged to group ${result.group}).`,
    );
  } catch (err) {
    const next = provider.local ? `make sure the server at ${provider.baseUrl} runs and has the model (${provider.preset.hint})` : 'check the key and the model name, then run `enclave setup` again';
    const message = `${(err as Error).message}. Your answers so far are saved; ${next}`;
    if (!ctx.interactive) throw new SetupError(message);
    ctx.say(message);
    if (!(await ctx.prompt.confirm('Continue the setup anyway?', true))) throw new SetupError('setup stopped after the failed test call');
  }
}

async function setBudgets(ctx: SetupContext): Promise<void> {
  const current = ctx.config().enclave.budgets.group;
  const daily = ctx.flags.dailyBudget ?? (ctx.interactive ? await askUsd(ctx, 'Daily spend limit per group, USD', current.dailyUsd) : current.dailyUsd);
  const monthly = ctx.flags.monthlyBudget ?? (ctx.interactive ? await askUsd(ctx, 'Monthly spend limit per group, USD', current.monthlyUsd) : current.monthlyUsd);
  if (daily !== undefined) ctx.file.set(['budgets', 'group', 'dailyUsd'], daily, ' per group, in the group\'s time zone');
  if (monthly !== undefined) ctx.file.set(['budgets', 'group', 'monthlyUsd'], monthly);
  ctx.save();
  ctx.say(`✓ Budget per group: ${daily ?? 'no'} USD a day, ${monthly ?? 'no'} USD a month.`);
}

/** Channel sessions need the platforms to themselves: a running Enclave would compete for the same updates. */
async function withChannelsFree<T>(ctx: SetupContext, run: () => Promise<T>, fallback: T): Promise<T> {
  let lock: InstanceLock;
  try {
    lock = InstanceLock.acquire(ctx.paths.lockFile);
  } catch (err) {
    const wanted = ctx.flags.telegramTokenFromEnv ?? ctx.flags.discordTokenFromEnv ?? ctx.flags.slackTokenFromEnv ?? ctx.flags.whatsapp ?? ctx.flags.ownerFrom;
    if (wanted) throw new SetupError(`connecting channels needs Enclave stopped (${(err as Error).message.split(';')[0]}); stop it and run the same command again`);
    ctx.say('Enclave is running, so channels are not offered now (both would read the same updates). Stop it and run `npx enclave setup` again to connect or change channels.');
    return fallback;
  }
  try {
    return await run();
  } finally {
    lock.release();
  }
}

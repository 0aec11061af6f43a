import { whatsappAuthDir } from '../../channels/platforms.js';
import { hasLinkedSession } from '../../channels/whatsapp/session-store.js';
import { ConfigError } from '../config/errors.js';
import { checkModelsOffline, checkProvidersOnline } from '../services/model-readiness.js';
import { snapshotPrice } from '../setup/price-snapshot.js';
import { checkDiscordToken, checkSlackToken, checkTelegramToken, type TokenCheck } from '../setup/channel-tokens.js';
import { listProviderModels } from '../services/provider-models.js';
import { needConfig, ok, problem, type CheckResult, type DoctorCheck } from './check.js';

export const configCheck: DoctorCheck = {
  id: 'config',
  title: 'enclave.yaml and every group.yaml are valid',
  run: async (env) => {
    if (!(env.config instanceof Error)) return [ok('config', `${env.paths.configFile} and ${env.config.groups.size} group file(s) are valid`)];
    const err = env.config;
    if (err instanceof ConfigError) return [problem('config', `${err.file}${err.line ? `:${err.line}` : ''}: ${err.problem}`, err.fix)];
    return [problem('config', `the configuration does not load: ${err.message}`, 'fix the file it names, or run `npx enclave setup` again')];
  },
};

export const providersCheck: DoctorCheck = {
  id: 'providers',
  title: 'every provider answers with its key (GET /models, free)',
  run: async (env) => {
    const cfg = needConfig(env, 'providers');
    if (!('providers' in cfg)) return [cfg];
    if (cfg.providers.length === 0) return [problem('providers', 'no model provider is configured', 'run `npx enclave setup` to add one')];
    return Promise.all(
      cfg.providers.map(async (p): Promise<CheckResult> => {
        const key = p.secret ? env.secret(p.secret) : undefined;
        if (p.secret && !key) return problem('providers', `provider ${p.name}: its key ${p.secret} is neither in the vault nor in the environment`, `run \`npx enclave secrets set ${p.secret}\` (it reads the key from stdin)`);
        const answer = await listProviderModels(p.baseUrl, key, Math.min(p.timeoutSeconds, 10) * 1000);
        if (answer.ok || answer.kind === 'no_list') return ok('providers', `provider ${p.name} (${p.baseUrl}) answers${p.secret ? ` with the key ${p.secret}` : ''}`);
        const fix = answer.kind === 'key_rejected' ? `store a valid key: \`npx enclave secrets set ${p.secret ?? '<NAME>'}\`` : `check that ${p.baseUrl} is right and its server runs`;
        return problem('providers', `provider ${p.name}: ${answer.problem}`, fix);
      }),
    );
  },
};

export const modelsCheck: DoctorCheck = {
  id: 'models',
  title: 'every group\'s models are priced, keyed and served',
  run: async (env) => {
    const cfg = needConfig(env, 'models');
    if (!('providers' in cfg)) return [cfg];
    const hasSecret = (name: string) => env.secret(name) !== undefined;
    const offline = checkModelsOffline(cfg, { hasSecret, knownPrice: snapshotPrice });
    // Unreachable providers and refused keys are the providers check's lines.
    const online = (await checkProvidersOnline(cfg, { secret: env.secret })).filter((p) => p.kind === 'not_served');
    const problems = [...offline, ...online];
    if (problems.length > 0) return problems.map((p) => problem('models', p.problem, p.fix));
    const models = [...new Set([...cfg.groups.values()].flatMap((g) => g.allowedModels))];
    return [ok('models', `model(s) ${models.join(', ') || '(none)'} priced, keyed and served`)];
  },
};

export const channelsCheck: DoctorCheck = {
  id: 'channels',
  title: 'every enabled channel\'s token is valid (WhatsApp: linked)',
  run: async (env) => {
    const cfg = needConfig(env, 'channels');
    if (!('providers' in cfg)) return [cfg];
    const ch = cfg.enclave.channels;
    const results: CheckResult[] = [];
    const token = async (label: string, secret: string, check: (t: string) => Promise<TokenCheck>) => {
      const value = env.secret(secret);
      if (!value) return results.push(problem('channels', `${label} is enabled but its token ${secret} is not set`, `run \`npx enclave setup\` (or \`npx enclave secrets set ${secret}\`)`));
      const verdict = await check(value);
      results.push(verdict.ok ? ok('channels', `${label} token valid: ${verdict.botName}`) : problem('channels', `${label}: ${verdict.problem}`, `${verdict.fix}, then \`npx enclave secrets set ${secret}\``));
    };
    if (ch.telegram.enabled) await token('Telegram', ch.telegram.tokenSecret, (t) => checkTelegramToken(ch.telegram.apiRoot, t));
    if (ch.discord.enabled) await token('Discord', ch.discord.tokenSecret, (t) => checkDiscordToken(ch.discord.apiBase, t));
    if (ch.slack.enabled) await token('Slack', ch.slack.tokenSecret, (t) => checkSlackToken(ch.slack.apiUrl, t));
    if (ch.whatsapp.enabled) {
      const linked = await hasLinkedSession(whatsappAuthDir(cfg.paths.dataDir)).catch(() => false);
      results.push(linked ? ok('channels', 'WhatsApp is linked') : problem('channels', 'WhatsApp is enabled but not linked to a phone', 'run `npx enclave setup --whatsapp qr` (or `npx enclave pair whatsapp --phone <number>`)'));
    }
    return results.length > 0 ? results : [ok('channels', 'only the local chat is enabled (no tokens to check)')];
  },
};

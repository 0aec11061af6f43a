import { InvalidArgumentError, type Command } from 'commander';
import { PLATFORM_NAMES, type PlatformName } from '../../channels/platforms.js';
import { enclaveHome } from '../paths.js';
import { PROVIDER_PRESETS } from '../setup/provider-presets.js';
import type { SetupFlags } from '../setup/setup-context.js';
import { runSetupWizard } from '../setup/wizard.js';
import { fail } from './output.js';

function usd(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not an amount of USD (a number, 0 or more)`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${value}" is not a number of seconds (a whole number, 1 or more)`);
  return n;
}

function platform(value: string): PlatformName {
  if (!(PLATFORM_NAMES as string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not a platform; use one of ${PLATFORM_NAMES.join(', ')}`);
  return value as PlatformName;
}

/** `enclave setup`: the guided first run, or the same driven by flags. */
export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('guided setup: provider, key, model, price, a test call, budgets, channels, owner (re-run to change it)')
    .option('--provider <id>', `model provider: ${PROVIDER_PRESETS.map((p) => p.id).join(', ')}`)
    .option('--base-url <url>', 'the provider\'s OpenAI-compatible URL (for custom, or to override a preset)')
    .option('--model <name>', 'the default model')
    .option('--key-from-env <VAR>', 'read the provider key from this environment variable (keys never go on the command line)')
    .option('--input-price <usd>', 'USD per 1M input tokens (0 for a local model)', usd)
    .option('--cached-input-price <usd>', 'USD per 1M cached input tokens', usd)
    .option('--output-price <usd>', 'USD per 1M output tokens', usd)
    .option('--daily-budget <usd>', 'daily spend limit per group', usd)
    .option('--monthly-budget <usd>', 'monthly spend limit per group', usd)
    .option('--no-test-call', 'skip the test call through the proxy')
    .option('--telegram-token-from-env <VAR>', 'connect Telegram with the bot token in this environment variable')
    .option('--telegram-api-root <url>', 'Telegram Bot API root (a self-hosted Bot API server)')
    .option('--discord-token-from-env <VAR>', 'connect Discord with the bot token in this environment variable')
    .option('--discord-api-base <url>', 'Discord REST API root')
    .option('--slack-token-from-env <VAR>', 'connect Slack with the bot token (xoxb-) in this environment variable')
    .option('--slack-app-token-from-env <VAR>', 'the Slack app-level token (xapp-) for Socket Mode')
    .option('--slack-api-url <url>', 'Slack Web API URL')
    .option('--whatsapp <how>', 'link WhatsApp: qr or code')
    .option('--whatsapp-phone <number>', 'phone number for --whatsapp code, country code first')
    .option('--owner <identity>', 'make this person an owner, e.g. telegram:123456789')
    .option('--owner-from <platform>', 'wait for /whoami on this platform and make its sender an owner', platform)
    .option('--owner-wait-seconds <n>', 'how long to wait for /whoami (default 300)', seconds)
    .option('-y, --yes', 'ask nothing: use flags, then the current setup, then defaults')
    .action(async (flags: SetupFlags) => {
      if (flags.whatsapp && flags.whatsapp !== 'qr' && flags.whatsapp !== 'code') fail(new Error('--whatsapp takes qr or code'), 2);
      try {
        await runSetupWizard(flags, { input: process.stdin, output: process.stdout, env: process.env, home: enclaveHome() });
      } catch (err) {
        fail(err);
      }
    });
}

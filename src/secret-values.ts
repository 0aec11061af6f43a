import type { Config } from './config/load.js';
import { channelSecretNames } from './channel-factory.js';

/**
 * Every secret value the host holds, for scrubbing logs and replies. Filled as soon as the vault is
 * open; the logger asks it on every line, so values known later are still scrubbed from then on.
 */
export class SecretValues {
  private readonly sources: Array<() => readonly string[]> = [];

  add(source: () => readonly string[]): void {
    this.sources.push(source);
  }

  values(): string[] {
    return this.sources.flatMap((source) => source()).filter((v) => v.length > 0);
  }
}

/** Names of every secret the configuration refers to: provider keys and channel tokens. */
export function configSecretNames(config: Config): string[] {
  return [...config.providers.map((p) => p.secret).filter((n): n is string => Boolean(n)), ...channelSecretNames(config)];
}

/** Values of the configured secrets that come from the environment (not the vault). */
export function envSecretValues(config: Config, env: NodeJS.ProcessEnv): string[] {
  return configSecretNames(config)
    .map((name) => env[name])
    .filter((v): v is string => Boolean(v));
}

import type { EnclaveConfig, ProviderConfig } from './schema.js';

export const ENV_PROVIDER_NAME = 'env';

/**
 * Providers from enclave.yaml, plus one built from OPENAI_API_KEY / OPENAI_BASE_URL when either is
 * set (in the environment, or the key in the vault), so `OPENAI_API_KEY=... npm start` works with
 * no provider in the config file.
 */
export function resolveProviders(cfg: EnclaveConfig, env: NodeJS.ProcessEnv, inVault: (name: string) => boolean = () => false): ProviderConfig[] {
  const providers = [...cfg.providers];
  const hasKey = Boolean(env.OPENAI_API_KEY) || inVault('OPENAI_API_KEY');
  if (hasKey || env.OPENAI_BASE_URL) {
    providers.push({
      name: ENV_PROVIDER_NAME,
      baseUrl: env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      secret: hasKey ? 'OPENAI_API_KEY' : undefined,
      prices: {},
      timeoutSeconds: 120,
    });
  }
  return providers;
}

export function providerFor(providers: readonly ProviderConfig[], model: string): ProviderConfig | undefined {
  return providers.find((p) => !p.models || p.models.includes(model));
}

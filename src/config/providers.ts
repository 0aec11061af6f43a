import type { EnclaveConfig, ProviderConfig } from './schema.js';

export const ENV_PROVIDER_NAME = 'env';

/**
 * Providers from enclave.yaml, plus one built from OPENAI_API_KEY / OPENAI_BASE_URL when either is
 * set, so `OPENAI_API_KEY=... npm start` works with no config file.
 */
export function resolveProviders(cfg: EnclaveConfig, env: NodeJS.ProcessEnv): ProviderConfig[] {
  const providers = [...cfg.providers];
  if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL) {
    providers.push({
      name: ENV_PROVIDER_NAME,
      baseUrl: env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
      secret: env.OPENAI_API_KEY ? 'OPENAI_API_KEY' : undefined,
      prices: {},
      timeoutSeconds: 120,
    });
  }
  return providers;
}

export function providerFor(providers: readonly ProviderConfig[], model: string): ProviderConfig | undefined {
  return providers.find((p) => !p.models || p.models.includes(model));
}

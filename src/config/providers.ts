import type { EnclaveConfig, ModelPriceConfig, ProviderConfig } from './schema.js';

export const ENV_PROVIDER_NAME = 'env';

/** The price a keyless endpoint on this machine gets for the model ENCLAVE_MODEL names (see resolveProviders). */
export const LOCAL_MODEL_PRICE: Readonly<ModelPriceConfig> = Object.freeze({ input: 0, output: 0 });

/** Whether a URL points at this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Providers from enclave.yaml, plus one built from OPENAI_API_KEY / OPENAI_BASE_URL when either is
 * set (in the environment, or the key in the vault), so `OPENAI_API_KEY=... npm start` works with
 * no provider in the config file. A keyless OPENAI_BASE_URL on this machine (Ollama, vLLM, LM
 * Studio) costs nothing, so the default model gets price 0 there unless enclave.yaml prices it:
 * `OPENAI_BASE_URL=http://localhost:11434/v1 ENCLAVE_MODEL=llama3.2 npm start` answers as written.
 */
export function resolveProviders(cfg: EnclaveConfig, env: NodeJS.ProcessEnv, inVault: (name: string) => boolean = () => false): ProviderConfig[] {
  const providers = [...cfg.providers];
  const hasKey = Boolean(env.OPENAI_API_KEY) || inVault('OPENAI_API_KEY');
  if (hasKey || env.OPENAI_BASE_URL) {
    const baseUrl = env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
    const model = env.ENCLAVE_MODEL ?? cfg.defaults.model;
    const localFree = !hasKey && isLoopbackUrl(baseUrl) && !Object.hasOwn(cfg.prices, model);
    providers.push({
      name: ENV_PROVIDER_NAME,
      baseUrl,
      secret: hasKey ? 'OPENAI_API_KEY' : undefined,
      prices: localFree ? { [model]: { ...LOCAL_MODEL_PRICE } } : {},
      timeoutSeconds: 120,
    });
  }
  return providers;
}

export function providerFor(providers: readonly ProviderConfig[], model: string): ProviderConfig | undefined {
  return providers.find((p) => !p.models || p.models.includes(model));
}

/** The providers `enclave setup` offers by name; any other OpenAI-compatible server is `custom`. */
export interface ProviderPreset {
  /** The preset's id on the command line (--provider) and the provider's name in enclave.yaml. */
  id: string;
  label: string;
  /** Empty for `custom`: the user gives the URL. */
  baseUrl: string;
  /** Vault name of the key; undefined for keyless local servers. */
  secret?: string;
  /** Runs on this machine: no key, price 0 by default. */
  local: boolean;
  /** Offered first when the server's model list cannot be read. */
  suggestedModel: string;
  /** Where to get a key (or start the server). */
  hint: string;
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  { id: 'openai', label: 'OpenAI', baseUrl: 'https://api.openai.com/v1', secret: 'OPENAI_API_KEY', local: false, suggestedModel: 'gpt-4o-mini', hint: 'create a key at https://platform.openai.com/api-keys' },
  { id: 'anthropic', label: 'Anthropic (OpenAI-compatible endpoint)', baseUrl: 'https://api.anthropic.com/v1', secret: 'ANTHROPIC_API_KEY', local: false, suggestedModel: 'claude-haiku-4-5', hint: 'create a key at https://console.anthropic.com/settings/keys' },
  { id: 'gemini', label: 'Google Gemini (OpenAI-compatible endpoint)', baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', secret: 'GEMINI_API_KEY', local: false, suggestedModel: 'gemini-2.5-flash', hint: 'create a key at https://aistudio.google.com/apikey' },
  { id: 'openrouter', label: 'OpenRouter', baseUrl: 'https://openrouter.ai/api/v1', secret: 'OPENROUTER_API_KEY', local: false, suggestedModel: 'meta-llama/llama-3.3-70b-instruct', hint: 'create a key at https://openrouter.ai/keys' },
  { id: 'groq', label: 'Groq', baseUrl: 'https://api.groq.com/openai/v1', secret: 'GROQ_API_KEY', local: false, suggestedModel: 'llama-3.3-70b-versatile', hint: 'create a key at https://console.groq.com/keys' },
  { id: 'mistral', label: 'Mistral', baseUrl: 'https://api.mistral.ai/v1', secret: 'MISTRAL_API_KEY', local: false, suggestedModel: 'mistral-small-latest', hint: 'create a key at https://console.mistral.ai/api-keys' },
  { id: 'ollama', label: 'Ollama (local)', baseUrl: 'http://localhost:11434/v1', local: true, suggestedModel: 'llama3.2', hint: 'start it with `ollama serve` and fetch a model with `ollama pull llama3.2`' },
  { id: 'vllm', label: 'vLLM (local)', baseUrl: 'http://localhost:8000/v1', local: true, suggestedModel: 'Qwen/Qwen2.5-7B-Instruct', hint: 'start it with `vllm serve Qwen/Qwen2.5-7B-Instruct`' },
  { id: 'lmstudio', label: 'LM Studio (local)', baseUrl: 'http://localhost:1234/v1', local: true, suggestedModel: 'qwen2.5-7b-instruct', hint: 'start the server in LM Studio (Developer > Start Server)' },
  { id: 'custom', label: 'Any other OpenAI-compatible URL', baseUrl: '', secret: 'CUSTOM_API_KEY', local: false, suggestedModel: '', hint: 'the URL ends in /v1 on most servers' },
];

export function presetById(id: string): ProviderPreset | undefined {
  return PROVIDER_PRESETS.find((p) => p.id === id);
}

/** The preset whose URL a configured provider uses, so a re-run shows the right choice. */
export function presetForUrl(baseUrl: string): ProviderPreset | undefined {
  const norm = (u: string) => u.replace(/\/+$/, '');
  return PROVIDER_PRESETS.find((p) => p.baseUrl !== '' && norm(p.baseUrl) === norm(baseUrl));
}

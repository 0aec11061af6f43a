/** What a provider's GET /models said: the models it serves, or why it could not be asked. */
export type ModelList =
  | { ok: true; models: string[] }
  | { ok: false; kind: 'unreachable' | 'key_rejected' | 'no_list' | 'error'; problem: string; fix: string; timedOut?: boolean };

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Lists a provider's models: the cheapest request that proves the URL answers and the key is accepted
 * (it costs nothing). The key goes only into the Authorization header, never into a message.
 */
export async function listProviderModels(baseUrl: string, key: string | undefined, timeoutMs = PROBE_TIMEOUT_MS, fetchImpl: typeof fetch = fetch): Promise<ModelList> {
  const url = `${baseUrl.replace(/\/+$/, '')}/models`;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError';
    const why = timedOut ? `no answer within ${timeoutMs / 1000} s` : causeOf(err);
    return { ok: false, kind: 'unreachable', problem: `${baseUrl} cannot be reached (${why})`, fix: 'check the URL, that the server runs, and this machine\'s network', timedOut };
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    return { ok: false, kind: 'key_rejected', problem: `${baseUrl} refused the key (HTTP ${res.status})`, fix: 'paste a valid key again' };
  }
  if (!res.ok) {
    await res.body?.cancel();
    return { ok: false, kind: 'no_list', problem: `${baseUrl} answered ${res.status} to a model list request`, fix: 'type the model name yourself' };
  }
  const body = (await res.json().catch(() => undefined)) as { data?: unknown } | undefined;
  const data = Array.isArray(body?.data) ? body.data : undefined;
  if (!data) return { ok: false, kind: 'no_list', problem: `${baseUrl} did not answer with a model list`, fix: 'type the model name yourself' };
  const models = data.map((m) => (m as { id?: unknown }).id).filter((id): id is string => typeof id === 'string');
  return { ok: true, models: [...new Set(models)].sort() };
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

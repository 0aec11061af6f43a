import {
  HOST_TOOLS_PATH,
  type HostToolRequest,
  type HostToolResponse,
  type LiveUpdate,
  TURN_LIVE_PATH,
  TURN_PATH,
  TURN_RESULT_PATH,
  type TurnRequest,
  type TurnResult,
} from './protocol.js';
import type { FetchFn } from './socket-fetch.js';

/** The host's hostname is irrelevant on a Unix socket; it only has to make a valid URL. */
export const HOST_ORIGIN = 'http://enclave';

/** The runner's side of the host endpoints in protocol.ts. */
export class HostClient {
  constructor(private readonly fetchFn: FetchFn) {}

  /** Long-polls for the next turn; null when the host answered 204 (nothing yet). */
  async nextTurn(signal?: AbortSignal): Promise<TurnRequest | null> {
    const res = await this.fetchFn(`${HOST_ORIGIN}${TURN_PATH}`, { method: 'GET', signal });
    if (res.status === 204) return null;
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`GET ${TURN_PATH} answered ${res.status}`);
    }
    return (await res.json()) as TurnRequest;
  }

  async sendResult(result: TurnResult): Promise<void> {
    const res = await this.postJson(TURN_RESULT_PATH, result);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`POST ${TURN_RESULT_PATH} answered ${res.status}`);
  }

  /** Part of the answer as it is written; the host shows it in the chat. */
  async sendLive(update: LiveUpdate): Promise<void> {
    const res = await this.postJson(TURN_LIVE_PATH, update);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`POST ${TURN_LIVE_PATH} answered ${res.status}`);
  }

  /** A host-performed tool; an unreadable answer becomes a refusal, never an exception. */
  async callTool(tool: string, request: HostToolRequest): Promise<HostToolResponse> {
    return this.readToolResponse(await this.postJson(`${HOST_TOOLS_PATH}${encodeURIComponent(tool)}`, request));
  }

  private async readToolResponse(res: Response): Promise<HostToolResponse> {
    const text = await res.text();
    try {
      const parsed = JSON.parse(text) as HostToolResponse;
      if (typeof parsed.ok === 'boolean') return parsed;
    } catch {
      // fall through: the host did not answer with a tool response
    }
    return { ok: false, error: `host answered ${res.status}: ${text.slice(0, 500)}` };
  }

  private postJson(path: string, body: unknown): Promise<Response> {
    return this.fetchFn(`${HOST_ORIGIN}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }
}

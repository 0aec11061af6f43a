import { join } from 'node:path';
import OpenAI from 'openai';
import { HOST_ORIGIN, HostClient } from '../../container/agent/host-client.js';
import { createSocketFetch } from '../../container/agent/socket-fetch.js';
import { runTurn } from '../../container/agent/turn.js';
import type { AgentContainer, ContainerRuntime } from '../../src/container/runtime.js';
import type { AgentContainerInput } from '../../src/container/spec.js';
import { sleep } from '../../src/time/sleep.js';

/**
 * For host tests that need no real container: the real agent runner code runs in this process
 * against the group's real socket, with the group's memory folder as its workspace. It isolates
 * nothing (its shell runs on the test machine): tests that need isolation use Docker.
 */
export class InProcessRuntime implements ContainerRuntime {
  private next = 0;
  readonly started: string[] = [];

  async prepare(): Promise<string> {
    return 'in-process';
  }

  async removeLeftovers(): Promise<number> {
    return 0;
  }

  async start(input: AgentContainerInput): Promise<AgentContainer> {
    const id = `in-process-${input.group}-${++this.next}`;
    this.started.push(input.group);
    const stop = new AbortController();
    const fetchFn = createSocketFetch(join(input.socketDir, 'api.sock'));
    const host = new HostClient(fetchFn);
    const client = new OpenAI({ baseURL: `${HOST_ORIGIN}/v1`, apiKey: 'enclave-proxy', fetch: fetchFn, maxRetries: 0 });
    const layout = { root: input.memoryDir, memory: input.memoryDir };
    const promptPaths = { memory: input.memoryDir, global: input.globalMemoryDir, skills: join(input.memoryDir, '.no-skills') };
    let exit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    void (async () => {
      while (!stop.signal.aborted) {
        const request = await host.nextTurn(AbortSignal.any([stop.signal, AbortSignal.timeout(60_000)])).catch(() => undefined);
        if (stop.signal.aborted) break;
        if (request === undefined) {
          await sleep(20, stop.signal);
          continue;
        }
        if (request === null) continue;
        const result = await runTurn(request, {
          client,
          callHostTool: (tool, req) => host.callTool(tool, req),
          sendLive: (update) => host.sendLive(update),
          layout,
          promptPaths,
        });
        if (!stop.signal.aborted) await host.sendResult(result).catch(() => undefined);
      }
      exit(137);
    })();
    return {
      id,
      exited,
      // Like a killed container: gone at once, whatever its turn was doing.
      remove: async () => {
        stop.abort();
        exit(137);
      },
    };
  }
}

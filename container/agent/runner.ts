/**
 * Entry point inside the agent container (`node /app/runner.js`, non-root, no network):
 * takes turns from the host over the group's Unix socket and answers them. Model calls go to
 * the host's credential proxy on the same socket; the API key below is a placeholder the host
 * ignores and replaces, not a secret.
 */
import OpenAI from 'openai';
import { HostClient, HOST_ORIGIN } from './host-client.js';
import { pollLoop } from './poll-loop.js';
import { AGENT_SOCKET_PATH } from './protocol.js';
import { createSocketFetch } from './socket-fetch.js';
import { runTurn } from './turn.js';
import { errorMessage } from './errors.js';

const MODEL_CALL_TIMEOUT_MS = 5 * 60_000;

function log(line: string): void {
  process.stderr.write(`[enclave-runner] ${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<void> {
  // As PID 1 the process gets no default signal handling: without these, `docker stop` waits for SIGKILL.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));

  const fetchFn = createSocketFetch(AGENT_SOCKET_PATH);
  const host = new HostClient(fetchFn);
  const client = new OpenAI({
    baseURL: `${HOST_ORIGIN}/v1`,
    apiKey: 'enclave-proxy',
    fetch: fetchFn,
    // The host proxy owns retries and provider fallback; a retry here would be a second billed call.
    maxRetries: 0,
    timeout: MODEL_CALL_TIMEOUT_MS,
  });

  log(`started, node ${process.version}, uid ${process.getuid?.() ?? '?'}`);
  await pollLoop({
    nextTurn: (signal) => host.nextTurn(signal),
    sendResult: (result) => host.sendResult(result),
    handleTurn: (request) => runTurn(request, { client, callHostTool: (tool, req) => host.callTool(tool, req), sendLive: (update) => host.sendLive(update), log }),
    log,
  });
}

main().catch((err: unknown) => {
  log(`exiting: ${errorMessage(err)}`);
  process.exit(1);
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { TurnRequest, TurnResult } from '../../container/agent/protocol.js';
import { AGENT_GID, AGENT_UID, ensureAgentImage } from '../../src/container/image.js';
import { completion, sseBodyOf, toolCall } from '../helpers/agent-fakes.js';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { containerLogs, dockerOrSkip, HARDENED, TEST_LABEL } from '../helpers/agent-docker.js';

/** The host side of one group's socket: hands out queued turns, scripts the model, collects results. */
class FakeHost {
  readonly turns: TurnRequest[] = [];
  readonly modelRequests: Array<{ auth: string | undefined; body: ChatCompletionCreateParamsNonStreaming }> = [];
  private readonly waiting: Array<(result: TurnResult) => void> = [];
  readonly server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => this.route(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  constructor(private readonly model: (body: ChatCompletionCreateParamsNonStreaming, call: number) => object) {}

  nextResult(): Promise<TurnResult> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private route(req: IncomingMessage, res: ServerResponse, body: string): void {
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/enclave/turn') {
      const turn = this.turns.shift();
      if (turn) json(200, turn);
      else setTimeout(() => res.writeHead(204).end(), 200);
    } else if (req.method === 'POST' && req.url === '/enclave/turn/result') {
      res.writeHead(204).end();
      this.waiting.shift()?.(JSON.parse(body) as TurnResult);
    } else if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      const parsed = JSON.parse(body) as ChatCompletionCreateParamsNonStreaming;
      this.modelRequests.push({ auth: req.headers.authorization, body: parsed });
      const answer = this.model(parsed, this.modelRequests.length);
      // The runner streams (stream: true), as it does through the host's proxy.
      if ((parsed as { stream?: boolean }).stream === true) {
        void sseBodyOf(answer as ChatCompletion).then((events) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(events));
      } else json(200, answer);
    } else {
      json(404, { error: `no route ${req.method} ${req.url}` });
    }
  }
}

function turn(turnId: string, text: string): TurnRequest {
  return { turnId, group: 'family', assistantName: 'Ada', model: 'fake-model', maxSteps: 5, context: 'Channel: local test', messages: [{ role: 'user', content: text }], tools: ['send_message'], skills: [] };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('the runner in the real image takes a turn over the socket and writes memory', { timeout: 300_000 }, async (t) => {
  const docker = await dockerOrSkip(t);
  if (!docker) return;
  const { tag } = await ensureAgentImage(docker);

  const base = await mkdtemp(join(tmpdir(), 'enclave-runner-'));
  const socketDir = join(base, 'run');
  const memoryDir = join(base, 'memory');
  await mkdir(socketDir, { mode: 0o755 });
  await mkdir(memoryDir);
  // As root (the usual test setup) hand the dir to the agent uid; otherwise let anyone write it.
  if (process.getuid?.() === 0) await chown(memoryDir, AGENT_UID, AGENT_GID);
  else await chmod(memoryDir, 0o777);

  const host = new FakeHost((body, call) => {
    if (call === 1) return completion(null, [toolCall('call-1', 'write_file', JSON.stringify({ path: 'MEMORY.md', content: 'The family likes green tea.\n' }))]);
    if (call === 2) return completion('Noted: green tea.');
    const system = body.messages[0];
    return completion(system?.role === 'system' && String(system.content).includes('green tea') ? 'You like green tea.' : 'I do not know.');
  });
  host.server.listen(join(socketDir, 'api.sock'));
  await once(host.server, 'listening');
  await chmod(join(socketDir, 'api.sock'), 0o666);
  await chmod(socketDir, 0o755);

  const container = await docker.createContainer({
    Image: tag,
    User: `${AGENT_UID}:${AGENT_GID}`,
    Labels: { [TEST_LABEL]: '1' },
    HostConfig: {
      ...HARDENED,
      Binds: [`${socketDir}:/run/enclave:ro`, `${memoryDir}:/workspace/memory:rw`],
    },
  });
  try {
    await container.start();

    host.turns.push(turn('turn-1', 'Please remember that we like green tea.'));
    const first = await within(host.nextResult(), 60_000, 'the first turn result');
    assert.deepEqual(first, { turnId: 'turn-1', ok: true, reply: 'Noted: green tea.', steps: 2 });
    assert.equal(await readFile(join(memoryDir, 'MEMORY.md'), 'utf8'), 'The family likes green tea.\n');
    if (process.getuid?.() === 0) assert.equal((await stat(join(memoryDir, 'MEMORY.md'))).uid, AGENT_UID);

    const [call1, call2] = host.modelRequests;
    assert.equal(call1?.auth, 'Bearer enclave-proxy');
    assert.equal(call1?.body.model, 'fake-model');
    assert.match(String(call1?.body.messages[0]?.content), /assistant for the group "family"[\s\S]*Channel: local test/);
    const toolResult = call2?.body.messages.find((m) => m.role === 'tool');
    assert.match(String(toolResult?.content), /^wrote 28 bytes to MEMORY\.md$/);

    host.turns.push(turn('turn-2', 'What do we like?'));
    const second = await within(host.nextResult(), 60_000, 'the second turn result');
    assert.deepEqual(second, { turnId: 'turn-2', ok: true, reply: 'You like green tea.', steps: 1 });
  } catch (err) {
    const logs = await containerLogs(container).catch(() => ({ stdout: '', stderr: '(no logs)' }));
    t.diagnostic(`runner logs:\n${logs.stdout}${logs.stderr}`);
    throw err;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
    host.server.closeAllConnections();
    host.server.close();
    await rm(base, { recursive: true, force: true });
  }
});

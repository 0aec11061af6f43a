import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { TurnRequest } from '../../container/agent/protocol.js';
import { silentLogger } from '../../src/logger.js';
import { callSocket } from '../helpers/socket-http.js';
import { GroupSocketServer, MAX_REPLY_CHARS, MAX_SOCKET_CONNECTIONS } from '../../src/socket/group-socket-server.js';
import { waitFor } from '../helpers/wait.js';


const turn: TurnRequest = { turnId: 'turn-1', group: 'g', assistantName: 'E', model: 'm', messages: [], maxSteps: 1, context: '', tools: ['send_message'], skills: [] };

test('the socket hands a turn to the newest poll and accepts only that turn\'s result and messages', async (t) => {
  const sent: string[] = [];
  const denials: string[] = [];
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-gs-')), 'g', 'api.sock');
  const server = new GroupSocketServer('g', sock, async () => undefined, async (group, turnId, tool, args) => {
    sent.push(`${group}/${turnId}/${tool}: ${String(args.text)}`);
    return { ok: true };
  }, silentLogger(), undefined, { append: (e) => denials.push(String(e.detail.reason)) });
  await server.listen();
  t.after(() => server.close());

  const stale = callSocket(sock, 'GET', '/enclave/turn');
  await new Promise((r) => setTimeout(r, 50));
  const fresh = callSocket(sock, 'GET', '/enclave/turn');
  assert.equal((await stale).status, 204, 'a newer poll replaces the older one; polls cannot pile up');
  await new Promise((r) => setTimeout(r, 50));

  const result = server.dispatch(turn);
  const handed = await fresh;
  assert.equal(handed.status, 200);
  assert.equal((JSON.parse(handed.text) as TurnRequest).turnId, 'turn-1');

  assert.equal((await callSocket(sock, 'POST', '/enclave/tools/send_message', { turnId: 'other-turn', text: 'hi' })).status, 409);
  const posted = await callSocket(sock, 'POST', '/enclave/tools/send_message', { turnId: 'turn-1', group: 'other', args: { text: 'progress' } });
  assert.equal(posted.status, 200);
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'other-turn', ok: true, reply: 'forged', steps: 1 })).status, 409);
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', '{not json')).status, 400);
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'turn-1', ok: true, reply: 'real', steps: 2 })).status, 204);
  assert.deepEqual(await result, { turnId: 'turn-1', ok: true, reply: 'real', error: undefined, steps: 2 });
  assert.deepEqual(sent, ['g/turn-1/send_message: progress'], 'the group is the socket\'s, whatever the body says');
  assert.equal((await callSocket(sock, 'POST', '/enclave/tools/send_message', { turnId: 'turn-1', args: { text: 'late' } })).status, 409, 'no messages after the turn ended');
  assert.equal((await callSocket(sock, 'GET', '/enclave/somewhere')).status, 404);
  assert.deepEqual(denials, ['unknown_turn', 'unknown_turn', 'invalid_json', 'unknown_turn', 'not_found'], 'every refusal is audited');
});

async function openIdle(sock: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(sock);
    s.on('error', () => undefined);
    await once(s, 'connect');
    sockets.push(s);
  }
  return sockets;
}

function socketServer(t: TestContext, clock: () => number) {
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-gs-')), 'g', 'api.sock');
  const server = new GroupSocketServer('g', sock, async () => undefined, async () => ({ ok: true }), silentLogger(), undefined, undefined, { idleMs: 5_000, clock });
  t.after(() => server.close());
  return { sock, server };
}

test('16 idle connections cannot lock the runner out: its long-poll still gets the turn', async (t) => {
  const { sock, server } = socketServer(t, () => 0);
  await server.listen();
  const idle = await openIdle(sock, MAX_SOCKET_CONNECTIONS);
  t.after(() => idle.forEach((s) => s.destroy()));
  await waitFor('the host to see every idle connection', () => server.openConnections === MAX_SOCKET_CONNECTIONS);

  const poll = callSocket(sock, 'GET', '/enclave/turn');
  await waitFor('the poll to arrive', () => server.openConnections === MAX_SOCKET_CONNECTIONS && idle.some((s) => s.destroyed));
  const result = server.dispatch(turn);
  const handed = await poll;
  assert.equal(handed.status, 200);
  assert.equal((JSON.parse(handed.text) as TurnRequest).turnId, 'turn-1');
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'turn-1', ok: true, reply: 'answered', steps: 1 })).status, 204);
  assert.equal((await result).reply, 'answered');
  assert.ok(server.openConnections <= MAX_SOCKET_CONNECTIONS);
});

test('connections idle past the idle time are reaped', async (t) => {
  let now = 0;
  const { sock, server } = socketServer(t, () => now);
  await server.listen();
  const idle = await openIdle(sock, 5);
  await waitFor('the host to see the connections', () => server.openConnections === 5);
  now += 4_999;
  assert.equal(server.reapConnections(), 0, 'not yet idle long enough');
  now += 1;
  assert.equal(server.reapConnections(), 5);
  await waitFor('the clients to see their connections closed', () => idle.every((s) => s.destroyed || s.readableEnded));
  assert.equal(server.openConnections, 0);
});

test('requests that hang on every slot but one cannot take the runner\'s: the last slot is its long-poll\'s', async (t) => {
  const { sock, server } = socketServer(t, () => 0);
  await server.listen();
  const hanging: Socket[] = [];
  for (let i = 0; i < MAX_SOCKET_CONNECTIONS - 1; i++) {
    const [s] = await openIdle(sock, 1);
    // Headers complete, body never sent: the request stays in flight.
    s!.write('POST /enclave/turn/result HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    hanging.push(s!);
  }
  t.after(() => hanging.forEach((s) => s.destroy()));
  await waitFor('the host to see the hanging requests', () => server.openConnections === MAX_SOCKET_CONNECTIONS - 1);
  const refused = await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'x' });
  assert.equal(refused.status, 503);
  const poll = callSocket(sock, 'GET', '/enclave/turn');
  const result = server.dispatch(turn);
  assert.equal((await poll).status, 200);
  server.abort(new Error('test over'));
  await result.catch(() => undefined);
});

test('a final reply longer than MAX_REPLY_CHARS is cut with a visible notice before it reaches the chat', async (t) => {
  const { sock, server } = socketServer(t, () => 0);
  await server.listen();
  const poll = callSocket(sock, 'GET', '/enclave/turn');
  const result = server.dispatch(turn);
  assert.equal((await poll).status, 200);
  const huge = 'a'.repeat(2 * 1024 * 1024 - 1024);
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'turn-1', ok: true, reply: huge, steps: 1 })).status, 204);
  const { reply } = await result;
  assert.equal(reply, `${'a'.repeat(MAX_REPLY_CHARS)}\n\n(the answer was cut at ${MAX_REPLY_CHARS} characters)`);
});

/** A socket whose model handler answers `bytes` of JSON-ish text; `calls` counts the model requests it saw. */
function modelServer(t: TestContext, clock: () => number, bytes: number) {
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-gs-')), 'g', 'api.sock');
  const seen = { calls: 0 };
  const server = new GroupSocketServer('g', sock, async (_group, _req, res) => {
    seen.calls += 1;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('m'.repeat(bytes));
  }, async () => ({ ok: true }), silentLogger(), undefined, undefined, { idleMs: 60_000, stallMs: 10_000, clock });
  t.after(() => server.close());
  return { sock, server, seen };
}

async function runnerStillGetsThrough(sock: string, server: GroupSocketServer): Promise<void> {
  const model = await callSocket(sock, 'POST', '/v1/chat/completions', { model: 'm', messages: [] });
  assert.equal(model.status, 200, 'the runner\'s model call gets through');
  const poll = callSocket(sock, 'GET', '/enclave/turn');
  const result = server.dispatch(turn);
  assert.equal((await poll).status, 200, 'the runner\'s poll gets the turn');
  assert.equal((await callSocket(sock, 'POST', '/enclave/turn/result', { turnId: 'turn-1', ok: true, reply: 'done', steps: 1 })).status, 204, 'the runner\'s result gets through');
  assert.equal((await result).reply, 'done');
}

test('clients that stop reading while pipelining requests are closed; the runner\'s calls and result still get through', async (t) => {
  let now = 0;
  const { sock, server } = modelServer(t, () => now, 100);
  await server.listen();
  const attackers: Socket[] = [];
  t.after(() => attackers.forEach((s) => s.destroy()));
  const request = `GET /enclave/${'x'.repeat(8000)} HTTP/1.1\r\nHost: a\r\n\r\n`;
  for (let c = 0; c < MAX_SOCKET_CONNECTIONS - 1; c++) {
    const [s] = await openIdle(sock, 1);
    s!.pause();
    for (let w = 0; w < 40; w++) s!.write(request.repeat(7));
    attackers.push(s!);
  }
  await new Promise((r) => setTimeout(r, 200));
  now += 10_000;
  server.reapConnections();
  now += 10_000;
  server.reapConnections();
  assert.equal(server.openConnections, 0, 'no attacker connection is left open');
  await runnerStillGetsThrough(sock, server);
});

test('connections whose reader stopped taking their responses are closed after the stall time, freeing the slots', async (t) => {
  let now = 0;
  const { sock, server, seen } = modelServer(t, () => now, 4 * 1024 * 1024);
  await server.listen();
  const stuck: Socket[] = [];
  t.after(() => stuck.forEach((s) => s.destroy()));
  for (let c = 0; c < MAX_SOCKET_CONNECTIONS - 1; c++) {
    const [s] = await openIdle(sock, 1);
    s!.pause();
    s!.write('POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    stuck.push(s!);
  }
  await waitFor('the host to answer every stuck request', () => seen.calls === MAX_SOCKET_CONNECTIONS - 1);
  assert.equal((await callSocket(sock, 'POST', '/v1/chat/completions', {})).status, 503, 'all slots but the runner\'s poll slot are busy');
  now += 9_999;
  assert.equal(server.reapConnections(), 0, 'a response may be slow to be read for a while');
  now += 10_000;
  assert.equal(server.reapConnections(), MAX_SOCKET_CONNECTIONS - 1);
  await runnerStillGetsThrough(sock, server);
});

test('a second request on a connection while one is in flight closes the connection', async (t) => {
  const { sock, server } = modelServer(t, () => 0, 10);
  await server.listen();
  const [s] = await openIdle(sock, 1);
  s!.write('GET /enclave/turn HTTP/1.1\r\nHost: a\r\n\r\nGET /enclave/turn HTTP/1.1\r\nHost: a\r\n\r\n');
  await once(s!, 'close');
  assert.equal(server.openConnections, 0);
});

test('a request unanswered past the response timeout is closed', async (t) => {
  let now = 0;
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-gs-')), 'g', 'api.sock');
  const server = new GroupSocketServer('g', sock, () => new Promise<void>(() => undefined), async () => ({ ok: true }), silentLogger(), undefined, undefined, { responseTimeoutMs: 60_000, clock: () => now });
  t.after(() => server.close());
  await server.listen();
  const hanging = callSocket(sock, 'POST', '/v1/chat/completions', {}).catch((err: Error) => err);
  await waitFor('the request to arrive', () => server.openConnections === 1);
  now += 59_999;
  assert.equal(server.reapConnections(), 0);
  now += 1;
  assert.equal(server.reapConnections(), 1);
  assert.ok((await hanging) instanceof Error, 'the client sees its connection closed');
});

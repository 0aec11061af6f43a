import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TurnRequest } from '../../container/agent/protocol.js';
import { silentLogger } from '../../src/logger.js';
import { callSocket } from '../helpers/socket-http.js';
import { GroupSocketServer } from '../../src/socket/group-socket-server.js';


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

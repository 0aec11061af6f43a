import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../src/logger.js';
import { testGroup } from './helpers/group-config.js';
import { callSocket } from './helpers/socket-http.js';
import { createModelProxy, MAX_CONCURRENT_CALLS_PER_GROUP } from '../src/proxy/model-proxy.js';
import { GroupSocketServer } from '../src/socket/group-socket-server.js';
import { FakeModel } from './fakes/fake-model.js';

const group = testGroup({ name: 'g', model: 'allowed-model', fallbacks: ['backup-model'] });


test('the proxy adds the key, enforces the group\'s models and paths, and hides upstream details', async (t) => {
  const model = await FakeModel.start();
  const key = 'sk-proxy-test-0123456789';
  const proxy = createModelProxy({
    groups: () => new Map([['g', group]]),
    providers: () => [{ name: 'p', baseUrl: model.baseUrl, secret: 'KEY', prices: {}, timeoutSeconds: 5 }],
    secret: (name) => (name === 'KEY' ? key : undefined),
    log: silentLogger(),
  });
  const sock = join(mkdtempSync(join(tmpdir(), 'enc-px-')), 'g', 'api.sock');
  const server = new GroupSocketServer('g', sock, proxy, async () => ({ ok: true }), silentLogger());
  await server.listen();
  t.after(async () => {
    await server.close();
    await model.close();
  });
  const chat = (m: string, headers?: Record<string, string>) =>
    callSocket(sock, 'POST', '/v1/chat/completions', JSON.stringify({ model: m, messages: [{ role: 'user', content: 'hi' }] }), headers);

  model.push({ content: 'fine' });
  const ok = await chat('allowed-model', { authorization: 'Bearer agent-made-this-up' });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /fine/);
  assert.equal(model.requests.at(-1)!.headers.authorization, `Bearer ${key}`, 'the agent\'s header is replaced');

  const refused = await chat('gpt-expensive');
  assert.equal(refused.status, 403);
  assert.match(refused.text, /not allowed for this group/);

  assert.equal((await callSocket(sock, 'GET', '/v1/files')).status, 404);
  const models = await callSocket(sock, 'GET', '/v1/models');
  assert.deepEqual((JSON.parse(models.text) as { data: { id: string }[] }).data.map((m) => m.id), ['allowed-model', 'backup-model']);

  const huge = await callSocket(sock, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'allowed-model', messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] }));
  assert.equal(huge.status, 413);

  model.push({ status: 401, body: { error: { message: `bad key ${key} at ${model.baseUrl}` } } });
  const upstreamError = await chat('allowed-model');
  assert.equal(upstreamError.status, 401);
  assert.ok(!upstreamError.text.includes(key), 'the key is stripped from upstream errors');
  assert.ok(!upstreamError.text.includes(model.baseUrl), 'so is the upstream URL');
  assert.ok(!upstreamError.text.includes('bad key'), 'the upstream body is never passed on (it may quote part of the key)');
  assert.match(upstreamError.text, /provider p answered 401 \(the provider refused the key configured on the host\)/);
  assert.equal(model.requests.length, 2, 'refused requests never reached the provider');

  const streamed = await callSocket(sock, 'POST', '/v1/chat/completions', JSON.stringify({ model: 'backup-model', stream: true, messages: [] }));
  assert.match(streamed.text, /data: .*chat\.completion\.chunk/);
  assert.match(streamed.text, /data: \[DONE\]/);

  model.fallback = () => ({ content: 'slow', delayMs: 300 });
  const burst = await Promise.all(Array.from({ length: MAX_CONCURRENT_CALLS_PER_GROUP + 2 }, () => chat('allowed-model')));
  const statuses = burst.map((r) => r.status).sort();
  assert.deepEqual(statuses, [...Array(MAX_CONCURRENT_CALLS_PER_GROUP).fill(200), 429, 429], 'at most N calls of one group run at once');
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_SOCKET_PATH } from '../../container/agent/protocol.js';
import type { AuditRow } from '../../src/audit/types.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness } from '../helpers/harness.js';
import { errorCode, parseProbeResults, probeCommand, toolOutputs, type SocketProbe } from '../helpers/socket-probe.js';

const skip = await dockerSkipReason();

const GROUPS = {
  a: 'chats: [local:a]\nrequireTrigger: false\nmodel: fake-model\n',
  b: 'chats: [local:b]\nrequireTrigger: false\nmodel: fake-model-b\n',
};
const ENCLAVE_YAML = 'prices:\n  fake-model: { input: 1, output: 2 }\n  fake-model-b: { input: 1, output: 2 }\n';

const MESSAGES = [{ role: 'user', content: 'hi' }];
const HUGE = 5 * 1024 * 1024;

/** An attempt and how the host must answer it: an HTTP refusal with its audit reason, or no connection at all. */
type Attempt = SocketProbe & ({ status: number; reason: string } | { unreachable: true });

function attempts(bSocketOnHost: string): Attempt[] {
  const chat = { socket: AGENT_SOCKET_PATH, method: 'POST', path: '/v1/chat/completions' } as const;
  return [
    { ...chat, name: 'other_model', body: { model: 'gpt-4-not-allowed', messages: MESSAGES }, status: 403, reason: 'model_not_allowed' },
    { ...chat, name: 'b_model', body: { model: 'fake-model-b', messages: MESSAGES }, status: 403, reason: 'model_not_allowed' },
    { ...chat, name: 'own_auth', headers: { authorization: 'Bearer sk-attacker' }, body: { model: 'fake-model', messages: MESSAGES }, status: 400, reason: 'authorization_not_allowed' },
    { ...chat, name: 'x_api_key', headers: { 'x-api-key': 'sk-attacker' }, body: { model: 'fake-model', messages: MESSAGES }, status: 400, reason: 'header_not_allowed' },
    { ...chat, name: 'base_url', body: { model: 'fake-model', messages: MESSAGES, base_url: 'http://attacker.example/v1' }, status: 400, reason: 'field_not_allowed' },
    { ...chat, name: 'api_key', body: { model: 'fake-model', messages: MESSAGES, api_key: 'sk-attacker' }, status: 400, reason: 'field_not_allowed' },
    { ...chat, name: 'huge_body', padBytes: HUGE, status: 413, reason: 'body_too_large' },
    { socket: AGENT_SOCKET_PATH, name: 'embeddings', method: 'GET', path: '/v1/embeddings', status: 404, reason: 'not_found' },
    { ...chat, name: 'b_socket_host_path', socket: bSocketOnHost, body: { model: 'fake-model-b', messages: MESSAGES }, unreachable: true },
    { ...chat, name: 'b_socket_dotdot', socket: '/run/enclave/../b/api.sock', body: { model: 'fake-model-b', messages: MESSAGES }, unreachable: true },
  ];
}

/** Allowed by the proxy; the fake provider answers 401 and quotes the key it got, as some providers do. */
const UPSTREAM_401: SocketProbe = { socket: AGENT_SOCKET_PATH, name: 'upstream_401', method: 'POST', path: '/v1/chat/completions', body: { model: 'fake-model', messages: [{ role: 'user', content: 'probe upstream_401' }] } };
/** Not under /v1/: the socket server answers it before the proxy sees it. */
const ADMIN: Attempt = { socket: AGENT_SOCKET_PATH, name: 'admin', method: 'GET', path: '/admin', status: 404, reason: 'not_found' };
/** Chunked, so the host finds out it is too big only while reading it. */
const HUGE_CHUNKED: SocketProbe = { socket: AGENT_SOCKET_PATH, name: 'huge_chunked', method: 'POST', path: '/v1/chat/completions', padBytes: HUGE, chunked: true };

function probeOf(row: AuditRow): string | undefined {
  const path = row.detail.path;
  return typeof path === 'string' ? new URLSearchParams(path.split('?')[1] ?? '').get('probe') ?? undefined : undefined;
}

test('an adversarial agent in a real container is refused and audited at every attempt', { skip }, async (t) => {
  const h = await startHarness({ groups: GROUPS, enclaveYaml: ENCLAVE_YAML });
  t.after(() => h.stop());

  // Group b is running, so its socket exists on the host while group a tries to reach it.
  h.model.push({ content: 'b is up' });
  assert.deepEqual((await h.say('b', 'hello')).replies, ['b is up']);
  const bSocket = join(h.app.config.paths.runDir, 'b', 'api.sock');
  assert.ok(existsSync(bSocket), 'group b\'s socket is live on the host');
  assert.equal(h.app.containers.state('b').state, 'running');

  const refused = [...attempts(bSocket), ADMIN];
  const probes: SocketProbe[] = [...refused, HUGE_CHUNKED, UPSTREAM_401];
  const auditBefore = h.app.audit.tail(1)[0]?.id ?? 0;
  const requestsBefore = h.model.requests.length;
  h.model.push(
    { toolCalls: probes.map((p) => ({ name: 'shell', arguments: JSON.stringify({ command: probeCommand(p), timeout_seconds: 60 }) })) },
    { status: 401, body: { error: { message: `Incorrect API key provided: Bearer ${h.canary}`, type: 'invalid_request_error' } } },
    { content: 'I tried everything.' },
  );
  const turn = await h.say('a', 'try to break out');
  assert.deepEqual(turn.replies, ['I tried everything.']);

  const upstream = h.model.requests.slice(requestsBefore);
  const outputs = toolOutputs(upstream.at(-1)!);
  const results = parseProbeResults(outputs);
  const audit = h.app.audit.tail(500).filter((r) => r.id > auditBefore);

  await t.test('every probe ran inside the container and reported back to the model', () => {
    assert.equal(outputs.length, probes.length, 'one tool result per shell call');
    assert.deepEqual([...results.keys()].sort(), probes.map((p) => p.name).sort(), `tool outputs: ${outputs.join('\n---\n')}`);
  });

  await t.test('each attempt got the refusal it should', () => {
    for (const a of refused) {
      const got = results.get(a.name);
      if ('unreachable' in a) {
        assert.equal(got?.status, undefined, `${a.name}: another group's socket answered: ${JSON.stringify(got)}`);
        assert.equal(got?.error, 'ENOENT', `${a.name}: ${JSON.stringify(got)}`);
        continue;
      }
      assert.equal(got?.status, a.status, `${a.name}: ${JSON.stringify(got)}`);
      assert.equal(errorCode(got), a.reason, `${a.name}: ${JSON.stringify(got)}`);
    }
    // The host may cut a chunked body off before it can answer: a 413 or a broken connection.
    const chunked = results.get(HUGE_CHUNKED.name)!;
    assert.ok(chunked.status === 413 || chunked.error !== undefined, `huge_chunked: ${JSON.stringify(chunked)}`);
    assert.notEqual(chunked.status, 200);
    const provider = results.get(UPSTREAM_401.name)!;
    assert.equal(provider.status, 401, 'the provider\'s status is passed on');
    assert.equal(errorCode(provider), 'upstream_error', 'the body is the host\'s own, not the provider\'s');
  });

  await t.test('no refused attempt reached the provider; the one allowed call carried the host\'s key', () => {
    assert.equal(upstream.length, 3, 'the agent\'s two model calls and the allowed probe, nothing else');
    const probeCall = upstream[1]!;
    assert.equal((probeCall.body.messages as { content: string }[])[0]!.content, 'probe upstream_401');
    for (const call of upstream) {
      assert.equal(call.body.model, 'fake-model');
      assert.equal(call.headers.authorization, `Bearer ${h.canary}`, 'the host\'s key, never the agent\'s');
      assert.equal(call.headers['x-api-key'], undefined);
      for (const field of ['base_url', 'api_key']) assert.ok(!(field in call.body), `${field} was not forwarded`);
    }
    const modelCalls = audit.filter((r) => r.kind === 'model_call' && r.group === 'a');
    assert.deepEqual(modelCalls.map((r) => r.detail.outcome), ['ok', 'failed', 'ok'], 'only the allowed calls were reserved and settled');
    assert.equal(modelCalls[1]!.detail.status, 401);
  });

  await t.test('each refused attempt has its own denial row in the audit log', () => {
    const denials = audit.filter((r) => r.kind === 'denial' || r.kind === 'model_refused');
    assert.ok(denials.every((r) => r.group === 'a' && r.actor === 'agent:a'), 'denials are booked to the group whose socket was used');
    for (const a of refused) {
      if ('unreachable' in a || a.name === ADMIN.name) continue;
      const rows = denials.filter((r) => probeOf(r) === a.name);
      assert.equal(rows.length, 1, `${a.name}: one audit row expected, found ${rows.length} (${JSON.stringify(rows.map((r) => r.detail))})`);
      assert.equal(rows[0]!.detail.reason, a.reason, a.name);
    }
    const chunked = denials.filter((r) => probeOf(r) === HUGE_CHUNKED.name);
    assert.deepEqual(chunked.map((r) => r.detail.reason), ['body_too_large']);
    const model = denials.find((r) => probeOf(r) === 'other_model');
    assert.equal(model?.detail.model, 'gpt-4-not-allowed', 'the refused model is named');
  });

  await t.test('a path outside the proxy is refused and audited too', () => {
    const rows = audit.filter((r) => probeOf(r) === ADMIN.name);
    assert.deepEqual(rows.map((r) => [r.kind, r.group, r.detail.reason]), [['denial', 'a', 'not_found']], 'GET /admin over the group socket left no audit row');
  });

  await t.test('the canary is nowhere the agent could look, nor in the audit rows of the turn', () => {
    for (const [name, result] of results) assert.ok(!JSON.stringify(result).includes(h.canary), `${name} showed the agent the key`);
    for (const call of upstream) assert.ok(!JSON.stringify(call.body).includes(h.canary), 'the agent never had the key to send');
    assert.ok(!JSON.stringify(audit).includes(h.canary), 'audit rows');
    assert.ok(!JSON.stringify(audit).includes('sk-attacker'), 'the agent\'s own header value is not recorded either');
    assert.ok(!turn.replies.join('\n').includes(h.canary), 'chat reply');
  });
});

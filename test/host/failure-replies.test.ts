import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APIError } from 'openai';
import { errorMessage } from '../../container/agent/errors.js';
import { middayClock } from '../helpers/clock.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';

const HTTP_STATUS = /\b[45]\d\d\b/;

// No Docker: the real agent runner code runs in this process against the real proxy.
test('a provider answering any error status gives the chat a sentence for people, never the status code', async (t) => {
  const h = await startHarness({
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n' },
    start: { clock: middayClock(), runtime: new InProcessRuntime() },
  });
  t.after(() => h.stop());
  for (const status of [400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504]) {
    h.model.push({ status, body: { error: { message: `upstream says ${status} at ${h.model.baseUrl}` } } });
    const r = await h.say('main', `hello ${status / 100}?`);
    assert.equal(r.outcome, 'failed', `status ${status}`);
    assert.equal(r.replies.length, 1, `status ${status}`);
    const reply = r.replies[0]!;
    assert.match(reply, /^Sorry, I could not answer that: .+\. Please try again; if it keeps failing, \/status and the host log say more\.$/, `status ${status}: ${reply}`);
    assert.doesNotMatch(reply, HTTP_STATUS, `status ${status}: ${reply}`);
    assert.ok(!reply.includes('upstream says') && !reply.includes('127.0.0.1'), `the provider's own body and address stay out: ${reply}`);
  }
});

test('the proxy\'s own refusals (budget used up) read as sentences without a status code', async (t) => {
  const h = await startHarness({
    groups: { main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\nbudget: { dailyUsd: 0 }\n' },
    start: { clock: middayClock(), runtime: new InProcessRuntime() },
  });
  t.after(() => h.stop());
  const r = await h.say('main', 'hello?');
  assert.equal(r.outcome, 'failed');
  const turnReply = r.replies.find((x) => x.startsWith('Sorry, I could not answer that'));
  assert.ok(turnReply, JSON.stringify(r.replies));
  assert.match(turnReply, /budget|limit/i);
  for (const reply of r.replies) assert.doesNotMatch(reply, HTTP_STATUS, reply);
  assert.equal(h.model.requests.length, 0, 'refused before any upstream call');
});

test('the agent reads an HTTP error as the host\'s sentence, or a sentence for its status', () => {
  const headers = new Headers();
  assert.equal(errorMessage(APIError.generate(403, { error: { message: 'no price configured for model x' } }, undefined, headers)), 'no price configured for model x');
  for (const status of [401, 402, 404, 408, 413, 429, 500, 503]) {
    const text = errorMessage(APIError.generate(status, undefined, undefined, headers));
    assert.doesNotMatch(text, HTTP_STATUS, text);
    assert.match(text, /^the (model service|budget|conversation) /);
  }
  assert.equal(errorMessage(new Error('plain')), 'plain');
});

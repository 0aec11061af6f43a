import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { resumedReply } from '../../src/core/replies.js';
import { ALICE, FakeTelegram } from '../fakes/fake-telegram.js';
import { startHarnessBeside, type Harness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { dmWith, telegramEnclaveYaml, telegramSecrets, waitForOutboxDrained } from '../helpers/telegram-host.js';
import { waitFor } from '../helpers/wait.js';

const GROUP = `chats: [telegram:${ALICE.id}]\nrequireTrigger: false\nmodel: fake-model\nfallbacks: [fake-model-b]\n`;
const YAML_EXTRA = 'prices:\n  fake-model-b: { input: 1, cachedInput: 0.5, output: 2 }\n';

async function startHost(t: TestContext): Promise<{ fake: FakeTelegram; h: Harness }> {
  const fake = await FakeTelegram.start();
  const yaml = telegramEnclaveYaml(fake).replace('    enabled: true\n', '    enabled: true\n    dmPolicy: open\n    streaming: { editIntervalMs: 200 }\n') + YAML_EXTRA.replace('prices:\n', '');
  const h = await startHarnessBeside(t, fake, { groups: { main: GROUP }, enclaveYaml: yaml, secrets: telegramSecrets(fake), start: { runtime: new InProcessRuntime() } });
  return { fake, h };
}

/** Waits for the turn's reply in the outbox, delivered. */
async function delivered(h: Harness, n = 1): Promise<void> {
  await waitFor('the reply stored and delivered', () => {
    const row = h.app.db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'turn:%' AND sent_at IS NOT NULL").get() as { n: number };
    return row.n >= n || undefined;
  });
}

function storedReply(h: Harness): { text: string; history: string } {
  const out = h.app.db.prepare("SELECT text FROM outbox WHERE dedupe_key LIKE 'turn:%' ORDER BY id DESC LIMIT 1").get() as { text: string };
  const hist = h.app.db.prepare("SELECT content FROM history WHERE role = 'assistant' ORDER BY id DESC LIMIT 1").get() as { content: string } | undefined;
  return { text: out.text, history: hist?.content ?? '' };
}

test('a streamed answer shows in one Telegram message that ends as the stored reply; a secret split across deltas never shows', async (t) => {
  const { fake, h } = await startHost(t);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const half = Math.floor(h.canary.length / 2);
  const answer = `Here you go. The key is ${h.canary} and that is all.`;
  const cut = answer.indexOf(h.canary) + half;
  h.model.push({ content: answer, pieces: ['Here you go. ', answer.slice(13, cut), answer.slice(cut)], holdAfterFirstChunk: held });
  fake.pushMessage({ chat: dmWith(ALICE), text: 'what is the key?' });

  const first = await fake.waitForSent(1);
  assert.equal(fake.current.get(first.message_id)?.trim(), 'Here you go.', 'the first text is shown before the model finished');
  release();
  await delivered(h);
  await waitFor('the final edit', () => (fake.sent.length === 1 && fake.current.get(first.message_id)!.includes('that is all') ? true : undefined));

  const stored = storedReply(h);
  assert.equal(fake.sent.length, 1, 'one message, edited: the answer was not sent twice');
  assert.equal(fake.current.get(first.message_id), stored.text, 'the message ends as the reply in the outbox');
  assert.equal(stored.history, stored.text, 'and as the reply in the history');
  const everything = [...fake.callsTo('sendMessage'), ...fake.callsTo('editMessageText')].map((c) => String(c.params.text)).join('\n');
  assert.ok(!everything.includes(h.canary) && !everything.includes(h.canary.slice(0, half + 4)), 'no edit carried the secret or most of it');
  assert.match(stored.text, /\[redacted\]/i);
});

test('a model that breaks off mid-answer: the fallback answers from the start and replaces the partial text, marked', async (t) => {
  const { fake, h } = await startHost(t);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  h.model.pushFor('fake-model', { content: 'The first model starts', pieces: ['The first model ', 'starts'], holdAfterFirstChunk: held, cutAfterChunks: 2 });
  h.model.pushFor('fake-model-b', { content: 'The fallback model answers in full.' });
  fake.pushMessage({ chat: dmWith(ALICE), text: 'hello' });

  const first = await fake.waitForSent(1);
  const shownBeforeCut = fake.current.get(first.message_id)!.trim();
  release();
  await delivered(h);
  await waitFor('the fallback answer', () => (fake.sent.some((m) => fake.current.get(m.message_id) === 'The fallback model answers in full.') ? true : undefined));
  await waitForOutboxDrained(h.app.db);
  // How much of the first model's text was on screen when it broke off depends on when the last
  // edit ran: any prefix that holds at least the first message, followed by the marker.
  const marked = /^([\s\S]*?)\s*\n\n\(interrupted — the answer starts again below\)$/.exec(fake.current.get(first.message_id)!);
  assert.ok(marked, `the partial answer stays, marked as cut off: ${fake.current.get(first.message_id)}`);
  assert.ok(shownBeforeCut !== '' && marked[1]!.startsWith(shownBeforeCut) && 'The first model starts'.startsWith(marked[1]!), `the partial text is what the first model had sent: ${marked[1]}`);
  const last = fake.sent.at(-1)!;
  assert.notEqual(last.message_id, first.message_id, 'the fallback answer is a message of its own, below');
  assert.equal(fake.current.get(last.message_id), storedReply(h).text);
});

test('a restart mid-stream: the half message is marked interrupted, and the full answer arrives once', async (t) => {
  const { fake, h } = await startHost(t);
  h.model.push({ content: 'A long answer that never gets to finish in this run', holdAfterFirstChunk: new Promise(() => undefined) });
  h.model.push({ content: 'The complete answer after the restart.' });
  fake.pushMessage({ chat: dmWith(ALICE), text: 'tell me' });
  const first = await fake.waitForSent(1);
  await waitFor('the live message recorded while the turn runs', () => ((h.app.db.prepare('SELECT COUNT(*) AS n FROM live_messages').get() as { n: number }).n === 1 ? true : undefined));

  await h.restart();
  await delivered(h);
  // The rerun answers a message from before the restart, so its reply quotes the question.
  const rerun = resumedReply('tell me', 'The complete answer after the restart.');
  await waitForOutboxDrained(h.app.db);
  await waitFor('the rerun answer', () => (fake.sent.some((m) => fake.current.get(m.message_id) === rerun) ? true : undefined));
  assert.match(fake.current.get(first.message_id)!, /interrupted by a restart/, 'the half message says it was cut off');
  const full = fake.sent.filter((m) => fake.current.get(m.message_id)?.includes('The complete answer after the restart.'));
  assert.equal(full.length, 1, 'the answer is in the chat exactly once');
  assert.equal((h.app.db.prepare('SELECT COUNT(*) AS n FROM live_messages').get() as { n: number }).n, 0, 'nothing is left to recover');
});

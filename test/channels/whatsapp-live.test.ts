import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LiveReplyOptions } from '../../channels/channel.js';
import { openFenceAt } from '../../channels/chunk.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { WhatsAppChannel } from '../../channels/whatsapp/whatsapp-channel.js';
import { Outbox } from '../../src/core/outbox.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { FakeWhatsApp } from '../fakes/fake-whatsapp.js';
import { ManualTime } from '../helpers/manual-time.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { waitFor } from '../helpers/wait.js';

const JID = '491701234567@s.whatsapp.net';

test('WhatsApp: a live answer goes out as complete blocks (never inside a code fence); the outbox sends only the rest', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'enclave-wa-live-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const fake = await FakeWhatsApp.start();
  const state = new Map<string, string>();
  const config = whatsappConfigSchema.parse({ enabled: true, reconnect: { baseMs: 5, maxMs: 20 }, rateLimit: { intervalMs: 0, burst: 1 } });
  const channel = new WhatsAppChannel(config, {}, { log: silentLogger(), state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' }, {
    authDir: join(home, 'wa'),
    makeSocket: fake.makeSocket,
    onQr: () => undefined,
  });
  await channel.connect(async () => ({ status: 'queued', settled: Promise.resolve('none') }));
  t.after(() => channel.disconnect());
  await waitFor('WhatsApp connected', () => channel.health().connected || undefined);

  const time = new ManualTime();
  const options: LiveReplyOptions = {
    mode: 'blocks', editIntervalMs: 1000, minBlockChars: 20, progress: true, clock: time.clock, timers: new ManualTimers(),
    log: silentLogger(), onPosted: () => undefined, onVisible: () => undefined,
  };
  const display = channel.startLiveReply(target(), options);
  const reply = 'First paragraph, long enough to go.\n\n```js\nconst a = 1;\n\nconst b = 2;\n```\n\nLast words here.';
  let text = '';
  for (const piece of reply.match(/.{1,6}/gs)!) {
    text += piece;
    display.show(text);
  }
  const shown = await display.close();
  assert.equal(shown.mode, 'blocks');
  if (shown.mode !== 'blocks') return;
  assert.ok(shown.sentChars > 0);

  const db = openDatabase(':memory:');
  const outbox = new Outbox(db, new Map([['whatsapp', channel]]), silentLogger());
  t.after(() => outbox.close());
  outbox.add({ group: 'g', channel: 'whatsapp', chatId: JID, text: reply, dedupeKey: 'turn:w', live: { skip: shown.sentChars } });
  await outbox.flush();

  const sent = fake.sent.map((m) => m.text);
  assert.deepEqual(sent, ['First paragraph, long enough to go.', '```js\nconst a = 1;\n\nconst b = 2;\n```', 'Last words here.'], 'blocks in order, the blank line inside code did not end a block');
  for (const m of sent) assert.equal(openFenceAt(m, m.length), undefined, 'no message leaves a fence open');
  assert.equal(sent.join('\n\n'), reply, 'together they are exactly the stored reply, nothing sent twice');
});

function target() {
  return { chatId: JID };
}

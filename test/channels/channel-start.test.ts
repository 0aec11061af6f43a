import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { telegramConfigSchema } from '../../channels/telegram/config.js';
import { TelegramChannel } from '../../channels/telegram/telegram-channel.js';
import { channelSettledLine, channelStatesText, type ChannelStateReport } from '../../src/channel-starts.js';
import { silentLogger } from '../../src/logger.js';
import { startHarness } from '../helpers/harness.js';
import { InProcessRuntime } from '../helpers/in-process-runtime.js';
import { ManualTime } from '../helpers/manual-time.js';
import { waitFor } from '../helpers/wait.js';

/** A platform API that accepts connections and never answers (the hang that used to block the start). */
async function hangingServer(t: TestContext): Promise<{ url: string; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, accepted: () => accepted };
}

test('a Telegram API that hangs: the start returns at once, the local chat answers, the Ready states list telegram as connecting', async (t) => {
  const hang = await hangingServer(t);
  const settled: ChannelStateReport[] = [];
  const h = await startHarness({
    enclaveYaml: `channels:\n  telegram:\n    enabled: true\n    apiRoot: ${hang.url}\n    requestTimeoutSeconds: 300\n`,
    secrets: { TELEGRAM_BOT_TOKEN: '123456:fake-token-for-a-hanging-api' },
    channelsInBackground: true,
    start: { runtime: new InProcessRuntime(), onChannelSettled: (r) => settled.push(r) },
  });
  t.after(() => h.stop());
  await waitFor('the hanging API to be asked', () => hang.accepted() > 0);
  assert.deepEqual(h.app.channelStates(), [
    { name: 'local', state: 'connected' },
    { name: 'telegram', state: 'connecting' },
  ]);
  assert.equal(channelStatesText(h.app.channelStates()), 'local (connected), telegram (connecting)');
  h.model.push({ content: 'local works' });
  const r = await h.say('main', 'hello while telegram hangs');
  assert.deepEqual(r.replies, ['local works']);
  assert.deepEqual(settled.map((s) => s.name), ['local'], 'telegram has not settled: it still waits on the API');
});

test('the first Telegram attempt is bounded by requestTimeoutSeconds and its failure is one line for the terminal', async (t) => {
  const hang = await hangingServer(t);
  const time = new ManualTime();
  const timeouts: { ms: number; fire: AbortController }[] = [];
  const config = telegramConfigSchema.parse({ enabled: true, apiRoot: hang.url, requestTimeoutSeconds: 7, reconnect: { baseMs: 60_000, maxMs: 60_000 } });
  const channel = new TelegramChannel(
    config,
    { token: '123456:fake-token-for-a-hanging-api' },
    { log: pino({ level: 'silent' }), state: { get: () => undefined, set: () => undefined }, assistantName: 'Enclave', clock: time.clock },
    {
      wait: time.wait,
      timeoutSignal: (ms) => {
        const fire = new AbortController();
        timeouts.push({ ms, fire });
        return fire.signal;
      },
    },
  );
  t.after(() => channel.disconnect());
  let connected = false;
  const connecting = channel.connect(async () => ({ status: 'queued', settled: Promise.resolve('none') })).then(() => (connected = true));
  await waitFor('getMe to reach the hanging API', () => hang.accepted() > 0 && timeouts.length > 0);
  assert.equal(timeouts[0]!.ms, 7000, 'the documented requestTimeoutSeconds, not the long-poll time on top');
  assert.equal(connected, false);
  timeouts[0]!.fire.abort();
  await connecting;
  const health = channel.health();
  assert.equal(health.connected, false);
  assert.match(health.error ?? '', /Telegram did not answer getMe within 7 s \(channels\.telegram\.requestTimeoutSeconds\); retrying/);
  const line = channelSettledLine({ name: 'telegram', state: 'failed', reason: health.error });
  assert.match(line ?? '', /^Channel telegram failed: Telegram did not answer getMe within 7 s/);
  assert.ok(!(line ?? '').includes('\n'), 'one line');
});

test('a channel whose connect throws is reported failed; the others are not held up', async () => {
  const { ChannelStarts } = await import('../../src/channel-starts.js');
  const reports: ChannelStateReport[] = [];
  const health = { connected: true, reconnects: 0 };
  const ok = { name: 'good', connect: async () => undefined, health: () => health };
  const bad = { name: 'bad', connect: async () => { throw new Error('token missing: store it with `enclave secrets set X`'); }, health: () => ({ connected: false, reconnects: 0 }) };
  const channels = new Map([[ok.name, ok], [bad.name, bad]]) as unknown as ConstructorParameters<typeof ChannelStarts>[0];
  const starts = new ChannelStarts(channels, silentLogger(), (r) => reports.push(r));
  starts.start(async () => ({ status: 'queued', settled: Promise.resolve('none') }));
  await starts.settled();
  assert.deepEqual(reports.sort((a, b) => a.name.localeCompare(b.name)), [
    { name: 'bad', state: 'failed', reason: 'token missing: store it with `enclave secrets set X`' },
    { name: 'good', state: 'connected' },
  ]);
});

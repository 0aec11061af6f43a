import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import type { ChannelContext } from '../../channels/channel.js';
import { whatsappConfigSchema } from '../../channels/whatsapp/config.js';
import { normalisePhone, requestPairingCode } from '../../channels/whatsapp/pairing-code.js';
import { SCAN_INSTRUCTION } from '../../channels/whatsapp/qr.js';
import { NOT_LINKED_ERROR, WhatsAppChannel } from '../../channels/whatsapp/whatsapp-channel.js';
import { FakeWhatsAppServer } from '../fakes/fake-whatsapp-server.js';
import { waitFor } from '../helpers/wait.js';

// Real Baileys against a local server that speaks WhatsApp's Noise handshake: as far as a QR or a pairing code.

let server: FakeWhatsAppServer;
const dirs: string[] = [];
const log = pino({ level: 'silent' });

before(async () => {
  server = await FakeWhatsAppServer.start({ refs: ['ref-one', 'ref-two'] });
});
after(async () => {
  await server.close();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function sessionDir(): string {
  const home = mkdtempSync(join(tmpdir(), 'enclave-waqr-'));
  dirs.push(home);
  return join(home, 'data', 'whatsapp');
}

function context(): ChannelContext {
  const state = new Map<string, string>();
  return { log, state: { get: (k) => state.get(k), set: (k, v) => void state.set(k, v) }, assistantName: 'Enclave' };
}

/** https://wa.me/settings/linked_devices#ref,noiseKey,identityKey,advSecret,platform */
const QR_SHAPE = /^https:\/\/wa\.me\/settings\/linked_devices#([^,]+),([A-Za-z0-9+/]{43}=),([A-Za-z0-9+/]{43}=),([A-Za-z0-9+/]{43}=),(\d+)$/;

test('first run without a session: Baileys gets a QR from the server and the adapter renders it', async () => {
  const authDir = sessionDir();
  const qrs: { rendered: string; raw: string }[] = [];
  const config = whatsappConfigSchema.parse({ enabled: true, socketUrl: server.url, reconnect: { baseMs: 10, maxMs: 50 } });
  const channel = new WhatsAppChannel(config, {}, context(), { authDir, qrTimeoutMs: 300, onQr: (rendered, raw) => qrs.push({ rendered, raw }) });
  const handshakesBefore = server.handshakes.length;
  await channel.connect(async () => ({ status: 'queued', settled: Promise.resolve('none') }));

  assert.equal(qrs.length, 1);
  const { rendered, raw } = qrs[0]!;
  const [, ref, noiseKey, identityKey] = QR_SHAPE.exec(raw) ?? assert.fail(`unexpected QR text: ${raw}`);
  assert.equal(ref, 'ref-one');
  const handshake = server.handshakes[handshakesBefore]!;
  assert.equal(noiseKey, handshake.clientStatic.toString('base64'), 'the QR carries the Noise key the client used in the handshake');
  assert.equal(identityKey, Buffer.from(handshake.payload.devicePairingData!.eIdent!).toString('base64'));
  assert.ok(rendered.includes(SCAN_INSTRUCTION));
  const block = rendered.split('\n').filter((line) => /[▀▄█]/.test(line));
  assert.ok(block.length >= 10, `a QR block of half-height characters:\n${rendered}`);
  assert.ok(new Set(block.map((l) => l.length)).size === 1, 'every QR row is equally wide');

  assert.deepEqual(channel.health(), { connected: false, reconnects: 0, error: NOT_LINKED_ERROR, lastEventAt: channel.health().lastEventAt });
  assert.equal(statSync(authDir).mode & 0o777, 0o700);

  await waitFor('the refreshed QR', () => qrs.length >= 2);
  assert.equal(QR_SHAPE.exec(qrs[1]!.raw)?.[1], 'ref-two');
  assert.equal(QR_SHAPE.exec(qrs[1]!.raw)?.[2], noiseKey, 'same session, same Noise key');

  // Out of refs, Baileys closes (timedOut); the adapter reconnects and shows the next server's QR.
  await waitFor('a QR after reconnecting', () => qrs.length >= 3);
  assert.equal(channel.health().reconnects, 1);
  assert.equal(QR_SHAPE.exec(qrs[2]!.raw)?.[1], 'ref-one');
  assert.equal(server.handshakes.length, handshakesBefore + 2);
  await channel.disconnect();
});

test('pairing code: asks WhatsApp to link the phone number and returns the code', async () => {
  const authDir = sessionDir();
  const stop = new AbortController();
  let linked: Error | undefined | 'pending' = 'pending';
  const code = await requestPairingCode({
    authDir,
    phone: '+1 (555) 000-1111',
    socketUrl: server.url,
    log,
    signal: stop.signal,
    onLinked: (err) => (linked = err),
  });
  assert.match(code, /^[A-Z0-9]{8}$/);
  const request = await server.waitForNode('the pairing request', (n) => Array.isArray(n.content) && n.content[0]?.tag === 'link_code_companion_reg');
  const reg = (request.content as { tag: string; attrs: Record<string, string> }[])[0]!;
  assert.equal(reg.attrs.jid, '15550001111@s.whatsapp.net');
  assert.equal(reg.attrs.stage, 'companion_hello');
  await waitFor('the saved session', () => readdirSync(authDir).includes('creds.json'));
  assert.equal(statSync(join(authDir, 'creds.json')).mode & 0o777, 0o600);
  assert.equal(linked, 'pending');
  stop.abort();
  await waitFor('the pairing outcome', () => linked !== 'pending');
  assert.match(String(linked), /cancelled before the phone linked/);
});

test('pairing code: the phone number must be international digits', async () => {
  assert.equal(normalisePhone('+49 170 1234567'), '491701234567');
  assert.equal(normalisePhone('15550001111'), '15550001111');
  assert.throws(() => normalisePhone('0170 1234567'), /starts with 0, so it has no country code/);
  assert.throws(() => normalisePhone('0049 170 1234567'), /drop the leading 00/);
  assert.throws(() => normalisePhone('+49 170 CALLME'), /characters other than digits/);
  assert.throws(() => normalisePhone('12345'), /has 5 digits/);
  const handshakes = server.handshakes.length;
  await assert.rejects(requestPairingCode({ authDir: sessionDir(), phone: 'abc', socketUrl: server.url, log }), /international format/);
  assert.equal(server.handshakes.length, handshakes, 'no connection for an invalid number');
});

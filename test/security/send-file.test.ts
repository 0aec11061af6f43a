import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import type { Channel, OutboundFile, OutboundMessage } from '../../channels/channel.js';
import { LocalChannel } from '../../channels/local/local-channel.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { ActiveTurns } from '../../src/core/active-turns.js';
import { sendFileFromAgent } from '../../src/core/agent-messages.js';
import { Outbox } from '../../src/core/outbox.js';
import { OutboxFiles } from '../../src/core/outbox-files.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { createHostTools } from '../../src/tools/host-tools.js';
import { testGroup } from '../helpers/group-config.js';
import { waitFor } from '../helpers/wait.js';

/** A channel that records what it is given; fails the first `failures` sendFile calls like a network error. */
class RecordingChannel implements Channel {
  readonly name = 'rec';
  readonly maxMessageLength = 4000;
  readonly files: OutboundFile[] = [];
  readonly texts: OutboundMessage[] = [];
  constructor(
    private failures = 0,
    withFiles = true,
  ) {
    if (!withFiles) this.sendFile = undefined;
  }
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async send(msg: OutboundMessage): Promise<void> {
    this.texts.push(msg);
  }
  async setTyping(): Promise<void> {}
  health() {
    return { connected: true, reconnects: 0 };
  }
  sendFile? = async (file: OutboundFile): Promise<void> => {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('socket hang up');
    }
    this.files.push(file);
  };
}

interface Setup {
  memory: string;
  outboxDir: string;
  channel: RecordingChannel;
  call: (args: Record<string, unknown>) => ReturnType<ReturnType<typeof createHostTools>['handle']>;
  denials: () => { tool: unknown; outcome: unknown; reason: unknown }[];
  outbox: Outbox;
}

/** The real dispatcher, outbox, audit and SQLite, over a real memory folder; the turn answers chat c1, topic 7. */
function setup(t: TestContext, channel = new RecordingChannel(), onRetryWait: () => void = () => undefined): Setup {
  const root = mkdtempSync(join(tmpdir(), 'send-file-'));
  const group = testGroup({ name: 'fam', dir: join(root, 'group'), memoryDir: join(root, 'group', 'memory'), tools: ['send_message', 'send_file'] });
  mkdirSync(group.memoryDir, { recursive: true });
  const db = openDatabase(':memory:');
  const clock = () => Date.parse('2026-03-05T12:00:00Z');
  const audit = new AuditLog(db, clock);
  const outbox = new Outbox(db, new Map([[channel.name, channel]]), silentLogger(), {
    retryDelayMs: 1,
    retryLaterMs: 60_000,
    wait: async () => onRetryWait(),
  });
  t.after(() => outbox.close());
  const turns = new ActiveTurns();
  turns.begin('turn-1', { group: 'fam', channel: 'rec', chatId: 'c1', threadId: '7', replyTo: 'm1', sent: 0 });
  const outboxDir = join(root, 'data', 'outbox');
  const files = new OutboxFiles(outboxDir);
  const dispatcher = createHostTools({
    groups: () => new Map([[group.name, group]]),
    turnTarget: (g, turnId) => turns.get(g, turnId),
    send: () => ({ ok: true }),
    sendFile: {
      maxBytes: () => 20 * 1024 * 1024,
      stage: (bytes) => files.put(bytes),
      send: (g, turnId, file, caption) => sendFileFromAgent(turns, outbox, g, turnId, file, caption),
    },
    tasks: new TaskStore(db, audit, clock),
    audit,
    clock,
  });
  const denials = () =>
    audit
      .tail(100)
      .filter((r) => r.kind === 'denial')
      .map((r) => ({ tool: r.detail.tool, outcome: r.detail.outcome, reason: r.detail.reason }));
  return { memory: group.memoryDir, outboxDir, channel, outbox, denials, call: (args) => dispatcher.handle('fam', 'turn-1', 'send_file', args) };
}

function pngOf(color: string): Promise<Buffer> {
  return sharp({ create: { width: 8, height: 8, channels: 3, background: color } }).png().toBuffer();
}

function staged(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

test('send_file: a photo in the memory folder reaches its own chat and topic once, as a photo with its caption', async (t) => {
  const s = setup(t);
  const png = await pngOf('red');
  mkdirSync(join(s.memory, 'pics'));
  writeFileSync(join(s.memory, 'pics', 'chart.png'), png);
  const res = await s.call({ path: 'pics/chart.png', caption: 'This week' });
  assert.deepEqual(res, { ok: true, result: { ok: true, kind: 'image', mime: 'image/png', bytes: png.length } });
  await waitFor('the file delivered', () => s.channel.files[0]);
  await s.outbox.flush();
  assert.equal(s.channel.files.length, 1);
  const sent = s.channel.files[0]!;
  assert.deepEqual({ chat: sent.chatId, thread: sent.threadId, kind: sent.kind, name: sent.name, mime: sent.mime, caption: sent.caption }, {
    chat: 'c1', thread: '7', kind: 'image', name: 'chart.png', mime: 'image/png', caption: 'This week',
  });
  assert.ok(sent.data.equals(png));
  assert.deepEqual(staged(s.outboxDir), [], 'the staged copy is removed once delivered');
  assert.deepEqual(s.denials(), []);
});

test('send_file: the name the agent chose is shown without bidi or control characters, with the real type\'s extension', async (t) => {
  const s = setup(t);
  const png = await pngOf('blue');
  writeFileSync(join(s.memory, 'invoice\u202Egnp.exe'), png);
  assert.equal((await s.call({ path: 'invoice\u202Egnp.exe' })).ok, true);
  await waitFor('the file delivered', () => s.channel.files[0]);
  const name = s.channel.files[0]!.name;
  assert.doesNotMatch(name, /[\p{Cc}\p{Cf}]/u, name);
  assert.match(name, /\.png$/, 'a PNG is named as one, whatever the agent called it');
});

test('send_file: a delivery that fails once is retried and arrives exactly once, with the bytes checked at call time', async (t) => {
  const original = Buffer.from('%PDF-1.4\n% a report\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
  let memory = '';
  const s = setup(t, new RecordingChannel(1), () => {
    // Between the failed attempt and the retry, the agent swaps the file for something else.
    writeFileSync(join(memory, 'report.pdf'), 'secret stuff the agent wanted sent instead');
  });
  memory = s.memory;
  writeFileSync(join(s.memory, 'report.pdf'), original);
  assert.equal((await s.call({ path: './report.pdf' })).ok, true);
  await waitFor('the file delivered after the retry', () => s.channel.files[0]);
  await s.outbox.flush();
  assert.equal(s.channel.files.length, 1, 'exactly once');
  assert.equal(s.channel.files[0]!.kind, 'document');
  assert.equal(s.channel.files[0]!.mime, 'application/pdf');
  assert.equal(s.channel.files[0]!.caption, undefined);
  assert.ok(s.channel.files[0]!.data.equals(original), 'the copy taken at call time is what is delivered');
  assert.equal(s.outbox.unsentCount(), 0);
});

test('send_file: paths outside the memory folder, links, huge files, FIFOs and devices are refused, audited, and nothing is sent', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.memory, 'ok.txt'), 'fine');
  symlinkSync('/etc/passwd', join(s.memory, 'passwd-link'));
  symlinkSync('/etc', join(s.memory, 'etc-dir'));
  mkdirSync(join(s.memory, 'real'));
  symlinkSync('/etc', join(s.memory, 'real', 'up'));
  truncateSync(join(s.memory, 'ok.txt'), 4);
  writeFileSync(join(s.memory, 'huge.bin'), '');
  truncateSync(join(s.memory, 'huge.bin'), 200 * 1024 * 1024);
  execFileSync('mkfifo', [join(s.memory, 'pipe')]);
  const isRoot = process.getuid?.() === 0;
  if (isRoot) execFileSync('mknod', [join(s.memory, 'zero'), 'c', '1', '5']);
  mkdirSync(join(s.memory, 'folder'));

  const cases: [unknown, RegExp][] = [
    ['/etc/passwd', /absolute path/],
    [join(s.memory, 'ok.txt'), /absolute path/],
    ['../../../../etc/passwd', /leaves your memory folder/],
    ['real/../../group.yaml', /leaves your memory folder/],
    ['passwd-link', /symbolic link/],
    ['etc-dir/passwd', /symbolic link/],
    ['real/up/passwd', /symbolic link/],
    ['huge.bin', /209715200|200\.0 MB.*more than the 20\.0 MB/],
    ['pipe', /not a regular file/],
    ['folder', /not a regular file/],
    ['missing.pdf', /no file missing\.pdf/],
    ['ok.txt\u0000.png', /NUL/],
    [42, /path must be a non-empty string/],
    ...(isRoot ? [['zero', /not a regular file/] as [unknown, RegExp]] : []),
  ];
  for (const [path, why] of cases) {
    const res = await s.call({ path });
    assert.equal(res.ok, false, `${String(path)} refused`);
    assert.match(res.error ?? '', why, String(path));
  }
  const denials = s.denials();
  assert.equal(denials.length, cases.length, 'every refusal is audited');
  for (const d of denials) assert.equal(d.tool, 'send_file');
  assert.equal((await s.call({ path: 'ok.txt', caption: 'x'.repeat(1025) })).ok, false, 'an over-long caption is refused');
  await s.outbox.flush();
  assert.deepEqual(s.channel.files, []);
  assert.deepEqual(s.channel.texts, []);
  assert.deepEqual(staged(s.outboxDir), [], 'nothing was copied for a refused call');
});

test('send_file: a channel that cannot send files tells the chat so, with the caption, instead', async (t) => {
  const s = setup(t, new RecordingChannel(0, false));
  writeFileSync(join(s.memory, 'notes.md'), '# notes\n');
  assert.equal((await s.call({ path: 'notes.md', caption: 'my notes' })).ok, true);
  await waitFor('the notice', () => s.channel.texts[0]);
  assert.equal(s.channel.texts[0]!.text, '(The assistant sent a file, notes.md, but files cannot be sent on rec.)\nmy notes');
  assert.equal(s.channel.texts[0]!.threadId, '7');
  await s.outbox.flush();
  assert.equal(s.channel.texts.length, 1);
  assert.deepEqual(staged(s.outboxDir), []);
});

test('the local chat saves a sent file under its folder, never over another file, and names it in one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-files-'));
  const local = new LocalChannel(() => Date.parse('2026-03-05T12:00:00Z'), dir);
  const lines: string[] = [];
  local.subscribe((e) => {
    if (e.kind === 'message') lines.push(e.message.text);
  });
  const data = await pngOf('blue');
  await local.sendFile({ chatId: 'my chat/../x', kind: 'image', name: '../chart.png', mime: 'image/png', data, caption: 'here' });
  await local.sendFile({ chatId: 'my chat/../x', kind: 'image', name: '../chart.png', mime: 'image/png', data });
  const saved = readdirSync(join(dir, encodeURIComponent('my chat/../x')));
  assert.equal(saved.length, 2, 'the second file did not overwrite the first');
  for (const name of saved) assert.ok(readFileSync(join(dir, encodeURIComponent('my chat/../x'), name)).equals(data));
  assert.match(lines[0]!, new RegExp(`^\\[file from the assistant: ${dir}/my%20chat%2F..%2Fx/2026-03-05T12-00-00-000Z-__chart\\.png\\]\\nhere$`));
});

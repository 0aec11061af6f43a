import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Channel, InboundMessage, OutboundMessage } from '../../channels/channel.js';
import { storageGate } from '../../src/core/storage-gate.js';
import { openDatabase } from '../../src/db/database.js';
import { DISK_FULL_REFUSAL, isDiskFull, StorageHealth } from '../../src/db/storage-health.js';
import { silentLogger } from '../../src/logger.js';

function health(free: { bytes: number }, told: string[], now = { t: 0 }): StorageHealth {
  return new StorageHealth({ dir: '/x', log: silentLogger(), clock: () => now.t, tellOwner: (text) => told.push(text), freeBytes: () => free.bytes, recheckMs: 3_600_000 });
}

/** A real database whose file may not grow: SQLite answers SQLITE_FULL, as on a full disk. */
function cappedDb(h: StorageHealth) {
  const db = openDatabase(':memory:', { faults: h });
  db.exec('CREATE TABLE filler (x BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  return db;
}

function message(text: string): InboundMessage {
  return { channel: 'fake', chatId: 'c1', platformId: String(Math.random()), senderId: 'u', senderName: 'U', text, isDirect: true, mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0 };
}

function fakeChannel(sent: OutboundMessage[]): Channel {
  return {
    name: 'fake', maxMessageLength: 1000, connect: async () => undefined, disconnect: async () => undefined,
    send: async (m) => void sent.push(m), setTyping: async () => undefined, health: () => ({ connected: true, reconnects: 0 }),
  };
}

describe('storage health', () => {
  test('a write that meets a full database is reported once: logged, owner told, then recovered when space is back', () => {
    const told: string[] = [];
    const free = { bytes: 0 };
    const h = health(free, told);
    const db = cappedDb(h);
    const insert = db.prepare('INSERT INTO filler VALUES (?)');
    assert.throws(() => { for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(4096)); }, (err: Error) => isDiskFull(err));
    assert.equal(h.full, true);
    assert.throws(() => insert.run(Buffer.alloc(4096)));
    assert.equal(told.length, 1, 'told once, not at every failing write');
    assert.match(told[0]!, /disk is full/);
    assert.equal(h.recheck(), false, 'still full');
    free.bytes = 1024 ** 3;
    assert.equal(h.recheck(), true);
    assert.equal(h.full, false);
    assert.match(told[1]!, /answering requests again/);
    h.close();
  });

  test('a failing transaction commit is reported too', () => {
    const h = health({ bytes: 0 }, []);
    const db = cappedDb(h);
    const fill = db.transaction(() => { for (let i = 0; i < 100; i++) db.prepare('INSERT INTO filler VALUES (?)').run(Buffer.alloc(4096)); });
    assert.throws(() => fill.immediate());
    assert.equal(h.full, true);
    h.close();
  });

  test('a statement prepared again is the same one, still reports a full disk, and one still iterating is never shared', () => {
    const h = health({ bytes: 0 }, []);
    const db = cappedDb(h);
    const sql = 'INSERT INTO filler VALUES (?)';
    assert.equal(db.prepare(sql), db.prepare(sql), 'prepared once, then reused');
    assert.throws(() => { for (let i = 0; i < 100; i++) db.prepare(sql).run(Buffer.alloc(4096)); }, (err: Error) => isDiskFull(err));
    assert.equal(h.full, true, 'the reused statement still reports the fault');

    const watched = openDatabase(':memory:', { faults: health({ bytes: 1024 ** 3 }, []) });
    watched.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)');
    const seen: number[] = [];
    for (const row of watched.prepare('SELECT x FROM t ORDER BY x').iterate() as IterableIterator<{ x: number }>) {
      seen.push(row.x, (watched.prepare('SELECT x FROM t ORDER BY x').all() as { x: number }[]).length);
    }
    assert.deepEqual(seen, [1, 3, 2, 3, 3, 3], 'the same SQL run inside its own iteration gets a statement of its own');
    watched.close();
    h.close();
  });

  test('other errors are not a full disk', () => {
    const h = health({ bytes: 0 }, []);
    assert.equal(h.report(new Error('SQLITE_BUSY: database is locked'), 'x'), false);
    assert.equal(h.full, false);
    assert.equal(isDiskFull(Object.assign(new Error('write failed'), { code: 'ENOSPC' })), true);
  });

  test('background writes never throw', () => {
    const told: string[] = [];
    const h = health({ bytes: 0 }, told);
    assert.doesNotThrow(() => h.guard('audit', () => { throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); }));
    assert.doesNotThrow(() => h.guard('audit', () => { throw new Error('something else'); }));
    assert.equal(h.full, true);
    h.close();
  });
});

describe('storage gate', () => {
  test('while the disk is full, messages are refused with a sentence, at most once a minute per chat; then they pass again', async () => {
    const sent: OutboundMessage[] = [];
    const free = { bytes: 0 };
    const now = { t: 0 };
    const h = health(free, [], now);
    let handled = 0;
    const gate = storageGate(async () => { handled++; return { status: 'queued', settled: Promise.resolve('answered') }; }, { health: h, channels: new Map([['fake', fakeChannel(sent)]]), clock: () => now.t, log: silentLogger() });
    assert.equal((await gate(message('hi'))).status, 'queued');
    h.report(Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' }), 'test');
    const refused = await gate(message('hello?'));
    assert.equal(refused.status, 'refused');
    assert.equal(await refused.settled, 'answered');
    assert.deepEqual(sent.map((m) => m.text), [DISK_FULL_REFUSAL]);
    await gate(message('hello??'));
    assert.equal(sent.length, 1, 'no second refusal within the minute');
    now.t += 61_000;
    await gate(message('still?'));
    assert.equal(sent.length, 2);
    assert.equal(handled, 1);
    free.bytes = 1024 ** 3;
    h.recheck();
    assert.equal((await gate(message('back?'))).status, 'queued');
    assert.equal(handled, 2);
    h.close();
  });

  test('a message whose own write meets the full disk is refused, not lost in silence', async () => {
    const sent: OutboundMessage[] = [];
    const h = health({ bytes: 0 }, []);
    const gate = storageGate(async () => { throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); }, { health: h, channels: new Map([['fake', fakeChannel(sent)]]), clock: () => 0, log: silentLogger() });
    assert.equal((await gate(message('hi'))).status, 'refused');
    assert.equal(sent[0]?.text, DISK_FULL_REFUSAL);
    h.close();
  });
});

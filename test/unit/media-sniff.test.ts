import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { safeFileName, MAX_FILE_NAME_BYTES } from '../../src/media/file-name.js';
import { sniffType, UNKNOWN_BINARY } from '../../src/media/sniff.js';

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

test('images made by a real encoder are recognised by their bytes', async () => {
  const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } });
  assert.equal(sniffType(await base.clone().jpeg().toBuffer()).mime, 'image/jpeg');
  assert.equal(sniffType(await base.clone().png().toBuffer()).mime, 'image/png');
  assert.equal(sniffType(await base.clone().webp().toBuffer()).mime, 'image/webp');
  assert.equal(sniffType(await base.clone().gif().toBuffer()).mime, 'image/gif');
  assert.equal(sniffType(await base.clone().avif().toBuffer()).category, 'image');
});

test('audio, video and PDF headers', () => {
  const opus = bytes('OggS', [0, 2], new Array(20).fill(0), [1, 0x13], 'OpusHead');
  assert.equal(sniffType(opus).mime, 'audio/ogg');
  assert.equal(sniffType(bytes('ID3', [4, 0, 0, 0, 0, 0, 0])).mime, 'audio/mpeg');
  assert.equal(sniffType(bytes([0xff, 0xfb, 0x90, 0x64], new Array(10).fill(0))).mime, 'audio/mpeg');
  assert.equal(sniffType(bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0, 0, 0])).mime, 'audio/mp4');
  assert.equal(sniffType(bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 0, 0])).mime, 'video/mp4');
  assert.equal(sniffType(bytes([0, 0, 0, 0x18], 'ftypheic', [0, 0, 0, 0])).mime, 'image/heic');
  assert.equal(sniffType(bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')).mime, 'audio/wav');
  assert.equal(sniffType(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84], 'webm')).mime, 'audio/webm');
  assert.equal(sniffType(bytes('%PDF-1.7\n%\xe2\xe3\n1 0 obj')).mime, 'application/pdf');
});

test('UTF-8 text and JSON are text; control bytes and bad UTF-8 are not', () => {
  assert.equal(sniffType(Buffer.from('name,amount\nÄpfel,3\n')).mime, 'text/plain');
  assert.equal(sniffType(Buffer.from('# Title\n\n- item\t1\r\n')).category, 'text');
  assert.equal(sniffType(Buffer.from('{"a": [1, 2]}')).mime, 'application/json');
  assert.equal(sniffType(Buffer.from('{"a": [1, 2]')).mime, 'text/plain');
  assert.equal(sniffType(Buffer.from([0x68, 0x69, 0x00, 0x68])), UNKNOWN_BINARY);
  assert.equal(sniffType(Buffer.from([0x68, 0xc3, 0x28])), UNKNOWN_BINARY);
  assert.equal(sniffType(Buffer.alloc(0)), UNKNOWN_BINARY);
});

test('executables and archives are unknown binaries whatever they are called', () => {
  assert.equal(sniffType(bytes([0x7f], 'ELF', [2, 1, 1, 0])), UNKNOWN_BINARY);
  assert.equal(sniffType(bytes('MZ', [0x90, 0, 3, 0, 0, 0])), UNKNOWN_BINARY);
  assert.equal(sniffType(bytes('PK', [3, 4, 20, 0, 0, 0])), UNKNOWN_BINARY);
  assert.equal(sniffType(bytes('RIFF', [0, 0, 0, 0], 'AVI ')), UNKNOWN_BINARY);
  assert.equal(sniffType(bytes([0xff, 0xd8])), UNKNOWN_BINARY, 'a cut JPEG marker is not an image');
});

test('a file name keeps only its last segment, loses control characters and dot runs', () => {
  const text = sniffType(Buffer.from('hello'));
  assert.equal(safeFileName('../../etc/passwd\n.txt', text, 'document'), 'passwd_.txt');
  assert.equal(safeFileName('..\\..\\boot.ini', text, 'document'), 'boot.ini');
  assert.equal(safeFileName('notes..\u202Etxt.md', text, 'document'), 'notes._txt.md');
  assert.equal(safeFileName('..', text, 'document'), 'document.txt');
  assert.equal(safeFileName('.bashrc', text, 'document'), 'bashrc.txt');
  assert.equal(safeFileName(undefined, text, 'voice-note'), 'voice-note.txt');
  assert.equal(safeFileName('a\r\nb\u0000c.csv', text, 'document'), 'a__b_c.csv');
});

test('the extension matches the sniffed type, never the claim', () => {
  const jpeg = sniffType(bytes([0xff, 0xd8, 0xff, 0xe0]));
  assert.equal(safeFileName('IMG_1.JPEG', jpeg, 'photo'), 'IMG_1.jpeg');
  assert.equal(safeFileName('cat.png', jpeg, 'photo'), 'cat.png.jpg');
  assert.equal(safeFileName('photo.png', UNKNOWN_BINARY, 'file'), 'photo.png.bin');
  assert.equal(safeFileName('run.sh', UNKNOWN_BINARY, 'file'), 'run.sh.bin');
});

test('a long name is cut to the byte cap without splitting a character', () => {
  const pdf = sniffType(Buffer.from('%PDF-1.4'));
  const name = safeFileName(`${'ü'.repeat(300)}.pdf`, pdf, 'document');
  assert.ok(Buffer.byteLength(name) <= MAX_FILE_NAME_BYTES);
  assert.ok(name.endsWith('ü.pdf'));
  assert.ok(!name.includes('\uFFFD'));
});

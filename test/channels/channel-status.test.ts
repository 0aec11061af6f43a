import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { ChannelStatus } from '../../channels/channel-status.js';
import { ManualTime } from '../helpers/manual-time.js';

function logged() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { log, lines };
}

test('channel health: up, down with a reason logged once, reconnects counted, last event on the clock', () => {
  const time = new ManualTime();
  const { log, lines } = logged();
  const status = new ChannelStatus(log, time.clock);
  assert.deepEqual(status.health(), { connected: false, reconnects: 0 });

  status.down('cannot reach the platform; retrying');
  status.reconnecting();
  status.down('cannot reach the platform; retrying');
  status.reconnecting();
  assert.deepEqual(status.health(), { connected: false, reconnects: 2, error: 'cannot reach the platform; retrying' });
  assert.equal(lines.filter((l) => /cannot reach/.test(l.msg)).length, 1, 'the same reason is logged once');

  status.up('connected');
  status.up('connected');
  time.advance(5000);
  status.event();
  assert.deepEqual(status.health(), { connected: true, reconnects: 2, lastEventAt: time.clock() });
  assert.equal(lines.filter((l) => l.msg === 'connected').length, 1, 'coming up is logged when it was down');

  status.failed('the token was refused: store a new one and restart');
  assert.equal(status.isConnected, false);
  assert.equal(status.error, 'the token was refused: store a new one and restart');
  assert.equal(lines.at(-1)!.level, 50, 'a failure for good is an error line');

  status.starting();
  status.waitingFor('scan the QR code');
  assert.equal(status.health().error, 'scan the QR code');
});

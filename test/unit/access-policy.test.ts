import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { decideAccess } from '../../src/access/access-policy.js';
import { PAIRING_CODE_LENGTH } from '../../src/access/pairing-code.js';
import { MAX_PENDING_PER_CHANNEL, PairingStore, PAIRING_TTL_MS } from '../../src/access/pairing-store.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import type { Config } from '../../src/config/load.js';
import { enclaveConfigSchema } from '../../src/config/schema.js';
import { openDatabase } from '../../src/db/database.js';
import { homePaths } from '../../src/paths.js';
import { testGroup } from '../helpers/group-config.js';

function config(yaml: Record<string, unknown> = {}): Config {
  return { paths: homePaths('/nonexistent'), enclave: enclaveConfigSchema.parse(yaml), providers: [], groups: new Map(), defaultModel: 'm' };
}

function dm(senderId: string, over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channel: 'telegram', chatId: senderId, platformId: String(Math.random()), senderId, senderName: `Person ${senderId}`, text: 'hi',
    isDirect: true, mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0, ...over,
  };
}

describe('access policy', () => {
  test('owners pass everywhere, including unregistered chats', () => {
    const cfg = config({ owners: ['telegram:1'] });
    const pairings = new PairingStore(openDatabase(':memory:'));
    assert.deepEqual(decideAccess(cfg, dm('1'), undefined, pairings), { allow: true, owner: true });
    assert.deepEqual(decideAccess(cfg, dm('x', { channel: 'local' }), undefined, pairings), { allow: true, owner: true });
  });

  test('a stranger gets a pairing code that never names the owner; after approval they pass', () => {
    const cfg = config({ owners: ['telegram:4915123456789'] });
    const pairings = new PairingStore(openDatabase(':memory:'));
    const group = testGroup({ name: 'dm', chats: ['telegram:77'] });
    const first = decideAccess(cfg, dm('77'), group, pairings);
    assert.equal(first.allow, false);
    assert.ok(!first.allow && first.reason === 'pairing_required' && first.always === true);
    const code = /code is ([A-Z0-9]+)/.exec(!first.allow ? (first.reply ?? '') : '')?.[1] ?? '';
    assert.equal(code.length, PAIRING_CODE_LENGTH);
    assert.ok(!(!first.allow && first.reply?.includes('4915123456789')), 'the reply must not reveal the owner');

    const again = decideAccess(cfg, dm('77'), group, pairings);
    assert.ok(!again.allow && again.reply?.includes(code) && again.always === false, 'the same code, not a new one, and rate-limited');

    assert.equal(pairings.approve(code.toLowerCase(), 'owner')?.senderId, '77');
    assert.deepEqual(decideAccess(cfg, dm('77'), group, pairings), { allow: true, owner: false });
    assert.equal(pairings.revoke('telegram', '77', 'owner'), true);
    assert.equal(decideAccess(cfg, dm('77'), group, pairings).allow, false);
  });

  test('codes expire after an hour and at most three wait per channel', () => {
    let now = 1_000_000;
    const pairings = new PairingStore(openDatabase(':memory:'), () => now);
    const cfg = config();
    for (let i = 0; i < MAX_PENDING_PER_CHANNEL; i++) assert.equal(pairings.request('telegram', `s${i}`, 'S').kind, 'new');
    assert.equal(pairings.request('telegram', 'late', 'L').kind, 'too_many_pending');
    const full = decideAccess(cfg, dm('late'), undefined, pairings);
    assert.ok(!full.allow && full.reason === 'pairing_full');
    assert.equal(pairings.request('discord', 'other', 'O').kind, 'new', 'the limit is per channel');

    const code = pairings.list().find((p) => p.senderId === 's0')!.code;
    now += PAIRING_TTL_MS;
    assert.equal(pairings.approve(code, 'owner'), undefined, 'an expired code approves nobody');
    assert.equal(pairings.request('telegram', 'late', 'L').kind, 'new', 'expired codes free their slots');
  });

  test('DM policies: open, allowlist, disabled', () => {
    const pairings = new PairingStore(openDatabase(':memory:'));
    const group = testGroup({ name: 'g', chats: ['telegram:5'] });
    const open = config({ channels: { telegram: { dmPolicy: 'open' } } });
    assert.equal(decideAccess(open, dm('5'), group, pairings).allow, true);
    const listed = config({ channels: { telegram: { dmPolicy: 'allowlist', allowFrom: ['5'] } } });
    assert.equal(decideAccess(listed, dm('5'), group, pairings).allow, true);
    const notListed = decideAccess(listed, dm('6'), group, pairings);
    assert.ok(!notListed.allow && notListed.reason === 'not_allowlisted');
    assert.equal(pairings.list().length, 0, 'allowlist mode hands out no codes');
    const disabled = decideAccess(config({ channels: { telegram: { dmPolicy: 'disabled' } } }), dm('5'), group, pairings);
    assert.ok(!disabled.allow && disabled.reason === 'dm_disabled');
  });

  test('group chats: unregistered chats are refused, quietly unless the bot is addressed; sender allowlists hold', () => {
    const cfg = config();
    const pairings = new PairingStore(openDatabase(':memory:'));
    const inGroup = (over: Partial<InboundMessage>) => dm('9', { chatId: '-100', isDirect: false, ...over });
    const quiet = decideAccess(cfg, inGroup({}), undefined, pairings);
    assert.ok(!quiet.allow && quiet.reason === 'unregistered_chat' && quiet.reply === undefined);
    const addressed = decideAccess(cfg, inGroup({ mentionsBot: true }), undefined, pairings);
    assert.ok(!addressed.allow && addressed.reply !== undefined);
    const group = testGroup({ name: 'team', chats: ['telegram:-100'], allowSenders: ['telegram:1'] });
    const stranger = decideAccess(cfg, inGroup({ mentionsBot: true }), group, pairings);
    assert.ok(!stranger.allow && stranger.reason === 'sender_not_allowed');
    assert.equal(decideAccess(cfg, inGroup({ senderId: '1' }), group, pairings).allow, true);
  });

  test('refusal notices: once per key per hour', () => {
    let now = 0;
    const notices = new RefusalNotices(openDatabase(':memory:'), () => now);
    assert.equal(notices.take('a'), true);
    assert.equal(notices.take('a'), false);
    assert.equal(notices.take('b'), true);
    now += 60 * 60 * 1000;
    assert.equal(notices.take('a'), true);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InboundMessage } from '../../channels/channel.js';
import { testGroup } from '../helpers/group-config.js';
import { parseCommand } from '../../src/core/commands/parse.js';
import { isTriggered } from '../../src/core/trigger.js';

const group = testGroup({ name: 'team', chats: ['telegram:1'] });

function msg(over: Partial<InboundMessage>): InboundMessage {
  return {
    channel: 'telegram', chatId: '1', platformId: '1', senderId: 'u', senderName: 'U', text: 'hello', isDirect: false,
    mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0, ...over,
  };
}

test('trigger gating: DMs always, groups need the word, a mention or a reply', () => {
  assert.equal(isTriggered(msg({ isDirect: true }), group), true);
  assert.equal(isTriggered(msg({}), group), false);
  assert.equal(isTriggered(msg({ text: 'hey @Enclave, what time is it?' }), group), true);
  assert.equal(isTriggered(msg({ text: 'mail me at x@enclave.org' }), group), false, 'a word inside another word does not count');
  assert.equal(isTriggered(msg({ text: 'ask @enclavebot' }), group), false);
  assert.equal(isTriggered(msg({ mentionsBot: true }), group), true);
  assert.equal(isTriggered(msg({ replyToBot: true }), group), true);
  assert.equal(isTriggered(msg({}), { ...group, requireTrigger: false }), true);
});

test('commands: plain, with @bot suffix and arguments; paths are not commands', () => {
  assert.deepEqual(parseCommand('/status'), { name: 'status', args: [] });
  assert.deepEqual(parseCommand('  /Budget@EnclaveBot set daily 2.50 '), { name: 'budget', args: ['set', 'daily', '2.50'] });
  assert.equal(parseCommand('/usr/bin is a folder'), undefined);
  assert.equal(parseCommand('hello /status'), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Channel, InboundMessage, OutboundMessage } from '../../channels/channel.js';
import { PairingStore } from '../../src/access/pairing-store.js';
import { RefusalNotices } from '../../src/access/refusal-notices.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { Config } from '../../src/config/load.js';
import { enclaveConfigSchema } from '../../src/config/schema.js';
import { accessCommands } from '../../src/core/commands/access-commands.js';
import { Commands, type CommandSpec } from '../../src/core/commands/commands.js';
import { GroupQueue } from '../../src/core/group-queue.js';
import { MessageStore } from '../../src/core/message-store.js';
import { Outbox } from '../../src/core/outbox.js';
import { Router } from '../../src/core/router.js';
import { SeenChats } from '../../src/core/seen-chats.js';
import { SettleWaiters } from '../../src/core/settle-waiters.js';
import { openDatabase } from '../../src/db/database.js';
import { silentLogger } from '../../src/logger.js';
import { homePaths } from '../../src/paths.js';
import { TaskStore } from '../../src/scheduler/task-store.js';
import { GroupLifecycle } from '../../src/services/group-lifecycle.js';
import { PairingService } from '../../src/services/pairing-service.js';
import { testGroup } from '../helpers/group-config.js';

const OWNER = '1';

/** A real router over SQLite, with a chat channel that records what the host says. */
function rig() {
  const db = openDatabase(':memory:');
  const said: OutboundMessage[] = [];
  const channel: Channel = {
    name: 'telegram', maxMessageLength: 4096,
    connect: async () => undefined, disconnect: async () => undefined, setTyping: async () => undefined,
    health: () => ({ connected: true, reconnects: 0 }),
    send: async (m) => void said.push(m),
  };
  const config: Config = {
    paths: homePaths('/nonexistent'),
    enclave: enclaveConfigSchema.parse({ owners: [`telegram:${OWNER}`] }),
    providers: [],
    groups: new Map([['team', testGroup({ name: 'team', chats: ['telegram:-100'] })]]),
    defaultModel: 'm',
  };
  const audit = new AuditLog(db);
  const pairings = new PairingStore(db);
  const notices = new RefusalNotices(db);
  const queued: string[] = [];
  const queue = new GroupQueue(1, async (g) => void queued.push(g), () => undefined);
  const status: CommandSpec = { name: 'status', usage: '/status', help: 'status', needsGroup: true, run: () => 'all fine' };
  const groups = new GroupLifecycle({ db, audit, clock: () => 0, config: () => config, tasks: new TaskStore(db, audit), reloadHost: async () => false });
  const access = accessCommands({ pairings: new PairingService({ store: pairings, audit }), groups });
  const commands = new Commands([status, ...access], { audit, notices });
  const router = new Router({
    config: () => config, store: new MessageStore(db), outbox: new Outbox(db, new Map([['telegram', channel]]), silentLogger()),
    queue, commands, waiters: new SettleWaiters(), pairings, notices, seenChats: new SeenChats(db), audit, log: silentLogger(),
  });
  let seq = 0;
  const send = async (over: Partial<InboundMessage>) => {
    const receipt = await router.handle({
      channel: 'telegram', chatId: '-100', platformId: String(++seq), senderId: '2', senderName: 'Member', text: 'hi',
      isDirect: false, mentionsBot: false, replyToBot: false, mentions: [], fromBot: false, timestamp: 0, ...over,
    });
    await receipt.settled;
    return receipt.status;
  };
  return { said, audit, queued, send };
}

test("another bot's command in a group is plain text; ours, or one addressed to us, is a command", async () => {
  const r = rig();
  assert.equal(await r.send({ text: '/roll 2d6' }), 'ignored', 'not ours, not addressed: no trigger, ignored');
  assert.equal(await r.send({ text: '/status' }), 'command');
  assert.equal(await r.send({ text: '/roll', mentionsBot: true }), 'command', 'addressed: unknown commands get the help');
  assert.deepEqual(r.said.map((m) => m.text.split('\n')[0]), ['all fine', 'Unknown command /roll.']);
});

test('in an unregistered chat only the owner uses commands; others are refused, audited, told once', async () => {
  const r = rig();
  const outside = { chatId: '-200' };
  assert.equal(await r.send({ ...outside, text: '/help' }), 'unregistered', "a stranger's /help is an unregistered-chat refusal");
  assert.equal(await r.send({ ...outside, text: '/whoami', mentionsBot: true }), 'unregistered');
  assert.equal(await r.send({ ...outside, text: '/register mine' }), 'command', 'owner-only commands reach the registry to be refused there');
  const denials = r.audit.tail(10, { kind: 'denial' }).map((row) => row.detail.reason);
  assert.deepEqual(denials, ['unregistered_chat', 'unregistered_chat', 'owner_only_command']);
  assert.equal(r.said.filter((m) => m.chatId === '-200').length, 2, 'one neutral notice and one owner-only refusal, not one per message');

  assert.equal(await r.send({ ...outside, senderId: OWNER, text: '/whoami' }), 'command');
  assert.match(r.said.at(-1)!.text, /^You are telegram:1 \(owner\)\.\nThis chat is telegram:-200, not registered\./);
  assert.equal(await r.send({ ...outside, senderId: OWNER, text: 'hello @bot', mentionsBot: true }), 'unregistered');
  assert.match(r.said.at(-1)!.text, /Send \/register <name> here/, 'the owner is told how to register the chat');
  assert.deepEqual(r.queued, [], 'nothing reached an agent');
});

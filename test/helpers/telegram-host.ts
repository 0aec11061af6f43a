import type { Db } from '../../src/db/database.js';
import type { FakeChat, FakeTelegram, FakeUser } from '../fakes/fake-telegram.js';
import { waitFor } from './wait.js';

/**
 * enclave.yaml text for a host whose Telegram channel talks to the fake (fast polling and no rate
 * limiting, so tests do not wait on Telegram's pacing), plus any further top-level YAML.
 */
export function telegramEnclaveYaml(fake: FakeTelegram, moreYaml = ''): string {
  return [
    moreYaml.trimEnd(),
    'channels:',
    '  telegram:',
    '    enabled: true',
    `    apiRoot: ${fake.apiRoot}`,
    '    pollTimeoutSeconds: 1',
    '    reconnect: { baseMs: 10, maxMs: 50 }',
    '    rateLimit: { privateIntervalMs: 1, groupIntervalMs: 1, burst: 20 }',
    'prices:',
    '  fake-model: { input: 1, cachedInput: 0.5, output: 2 }',
    '',
  ]
    .filter((line, i) => i > 0 || line !== '')
    .join('\n');
}

/** The vault secrets the host needs to log in to the fake. */
export function telegramSecrets(fake: FakeTelegram): Record<string, string> {
  return { TELEGRAM_BOT_TOKEN: fake.token };
}

/** A person's one-to-one chat with the bot. */
export function dmWith(user: FakeUser): FakeChat {
  return { id: user.id, type: 'private', first_name: user.first_name };
}

/** What the bot has said in one Telegram chat so far, as sent (HTML). */
export function sentTo(fake: FakeTelegram, chat: FakeChat): string[] {
  return fake.sent.filter((s) => s.chatId === String(chat.id)).map((s) => s.text);
}

/** Waits until the bot has said at least n things in the chat; resolves with all of them. */
export function waitForSentTo(fake: FakeTelegram, chat: FakeChat, n = 1): Promise<string[]> {
  return waitFor(`${n} message(s) from the bot in Telegram chat ${chat.id}`, () => {
    const texts = sentTo(fake, chat);
    return texts.length >= n ? texts : undefined;
  });
}

/** Waits until the bot's nth message in the chat (0-based) shows `text` after its live edits; resolves with the text. */
export function waitForShownAs(fake: FakeTelegram, chat: FakeChat, index: number, text: string): Promise<string> {
  return waitFor(`message ${index} in Telegram chat ${chat.id} to read "${text}"`, () => {
    const message = fake.sent.filter((s) => s.chatId === String(chat.id))[index];
    const shown = message ? fake.current.get(message.message_id) : undefined;
    return shown === text ? shown : undefined;
  });
}

/** Waits until every reply the host queued has been delivered (or given up on). */
export function waitForOutboxDrained(db: Db): Promise<true> {
  return waitFor('the outbox to deliver everything', () => {
    const row = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND given_up_at IS NULL').get() as { n: number };
    return row.n === 0;
  });
}

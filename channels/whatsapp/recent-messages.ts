import type { WAMessage } from '@whiskeysockets/baileys';

/**
 * The last few hundred messages seen or sent, per chat and id: a reply can quote one of them,
 * Baileys can re-send one the recipient failed to decrypt, and a reply to one of the bot's own
 * counts as a reply to the bot.
 */
export class RecentMessages {
  private readonly byKey = new Map<string, { msg: WAMessage; own: boolean }>();

  constructor(private readonly capacity = 500) {}

  remember(msg: WAMessage, own: boolean): void {
    const { remoteJid, id } = msg.key;
    if (!remoteJid || !id) return;
    const key = keyOf(remoteJid, id);
    this.byKey.delete(key);
    this.byKey.set(key, { msg, own });
    if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
  }

  find(chatId: string, id: string): WAMessage | undefined {
    return this.byKey.get(keyOf(chatId, id))?.msg;
  }

  isOwn(chatId: string, id: string): boolean {
    return this.byKey.get(keyOf(chatId, id))?.own === true;
  }
}

function keyOf(chatId: string, id: string): string {
  return `${chatId}\n${id}`;
}

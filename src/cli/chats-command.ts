import { SeenChats } from '../core/seen-chats.js';
import { withHomeState, type HomeStateOptions } from './home-state.js';

/** `enclave chats`: chats the bot has heard from that no group maps, with the line that maps one. */
export function runChats(json: boolean, opts: HomeStateOptions = {}): Promise<void> {
  return withHomeState(opts, ({ config, db, print }) => {
    const mapped = new Set([...config.groups.values()].flatMap((g) => g.chats));
    const unmapped = new SeenChats(db).all().filter((c) => !mapped.has(`${c.channel}:${c.chatId}`));
    if (json) return print(JSON.stringify(unmapped));
    if (unmapped.length === 0) return print('Every chat the bot has seen is mapped to a group.');
    print('Chats the bot has seen that belong to no group:');
    for (const c of unmapped) {
      const ref = `${c.channel}:${c.chatId}`;
      const about = [c.title ? `"${c.title}"` : undefined, c.isDirect ? 'direct chat' : 'group chat', `${c.messages} message(s)`, `last ${new Date(c.lastSeenAt).toISOString()}`]
        .filter(Boolean)
        .join(', ');
      print('');
      print(`  ${ref}  (${about})`);
      print(`    add "${ref}" to chats: in groups/<name>/group.yaml, or run: enclave groups add <name> --chat ${ref}`);
    }
  });
}

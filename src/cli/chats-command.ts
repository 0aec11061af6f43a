import { SeenChats } from '../core/seen-chats.js';
import { openHomeState } from './home-state.js';
import { out } from './output.js';


/** `enclave chats`: chats the bot has heard from that no group maps, with the line that maps one. */
export function runChats(json: boolean): void {
  const state = openHomeState();
  const mapped = new Set([...state.config.groups.values()].flatMap((g) => g.chats));
  const unmapped = new SeenChats(state.db).all().filter((c) => !mapped.has(`${c.channel}:${c.chatId}`));
  state.close();
  if (json) return out(JSON.stringify(unmapped));
  if (unmapped.length === 0) return out('Every chat the bot has seen is mapped to a group.');
  out('Chats the bot has seen that belong to no group:');
  for (const c of unmapped) {
    const ref = `${c.channel}:${c.chatId}`;
    const about = [c.title ? `"${c.title}"` : undefined, c.isDirect ? 'direct chat' : 'group chat', `${c.messages} message(s)`, `last ${new Date(c.lastSeenAt).toISOString()}`]
      .filter(Boolean)
      .join(', ');
    out('');
    out(`  ${ref}  (${about})`);
    out(`    add "${ref}" to chats: in groups/<name>/group.yaml, or run: enclave groups add <name> --chat ${ref}`);
  }
}

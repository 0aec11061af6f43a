import { join } from 'node:path';
import { INBOX_DIR } from '../../container/agent/protocol.js';

/** Where the host stages a group's received files: groups/<name>/inbox, beside (not inside) its memory folder. */
export function inboxDirOf(group: { dir: string }): string {
  return join(group.dir, 'inbox');
}

/** The path the agent sees for a file staged at `relative` (from stageFile). */
export function agentInboxPath(relative: string): string {
  return `${INBOX_DIR}/${relative}`;
}

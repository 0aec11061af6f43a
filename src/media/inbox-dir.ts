import { lstatSync, mkdirSync } from 'node:fs';
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

/** Creates the group's inbox for its container's mount; refuses a link there (the mount would follow it). */
export function ensureInboxDir(group: { dir: string }): string {
  const dir = inboxDirOf(group);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is not a plain folder; remove it and start again`);
  return dir;
}

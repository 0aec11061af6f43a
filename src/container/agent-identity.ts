import { AGENT_GID, AGENT_UID } from './image.js';

/**
 * The uid and gid agent containers run as. As root, a uid no host account has; rootless (a member
 * of the docker group), the host user's own, so the memory folder it owns stays writable for both.
 */
export function agentIdentity(): { uid: number; gid: number } {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || gid === undefined || uid === 0) return { uid: AGENT_UID, gid: AGENT_GID };
  return { uid, gid };
}

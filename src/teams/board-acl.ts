import type { GroupTeamAcl } from '../config/team-schema.js';

/** A pattern is a key (exact) or a prefix ending in /* (every key below it). */
export function patternCovers(pattern: string, key: string): boolean {
  if (pattern.endsWith('/*')) return key.startsWith(pattern.slice(0, -1));
  return pattern === key;
}

/** Whether a read of this key (or of every key under this prefix ending in /) is allowed. */
export function mayRead(acl: GroupTeamAcl, keyOrPrefix: string): boolean {
  const patterns = [...acl.board.read, ...acl.board.write];
  if (keyOrPrefix.endsWith('/')) return patterns.some((p) => p.endsWith('/*') && keyOrPrefix.startsWith(p.slice(0, -1)));
  return patterns.some((p) => patternCovers(p, keyOrPrefix));
}

export function mayWrite(acl: GroupTeamAcl, key: string): boolean {
  return acl.board.write.some((p) => patternCovers(p, key));
}

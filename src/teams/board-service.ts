import type { BoardEntryView } from '../../container/agent/team-tool-contract.js';
import { MAX_BOARD_VALUE_CHARS } from '../../container/agent/team-tool-contract.js';
import type { AuditSink } from '../audit/types.js';
import type { GroupConfig } from '../config/groups.js';
import { BOARD_KEY_RE } from '../config/team-schema.js';
import { mayRead, mayWrite } from './board-acl.js';
import { MAX_BOARD_KEYS, type BoardStore } from './board-store.js';
import { TeamError } from './team-error.js';

const MAX_TTL_SECONDS = 30 * 24 * 3600;

/** The board operations with the host's checks: the caller's team and its read/write rights; every change audited. */
export class BoardService {
  constructor(
    private readonly board: BoardStore,
    private readonly audit: AuditSink,
  ) {}

  read(group: GroupConfig, keyOrPrefix: string, actor: string): BoardEntryView[] {
    const team = teamOf(group);
    checkKey(keyOrPrefix.endsWith('/') ? keyOrPrefix.slice(0, -1) : keyOrPrefix);
    if (!mayRead(team.acl, keyOrPrefix)) throw new TeamError(`you may not read "${keyOrPrefix}" (team.board.read of your group)`, 'denied', { key: keyOrPrefix, by: actor });
    return this.board.read(team.name, keyOrPrefix);
  }

  write(group: GroupConfig, key: string, value: string, actor: string, chain: string | null, expectedVersion?: number, ttlSeconds?: number): BoardEntryView {
    const team = teamOf(group);
    checkKey(key);
    if (!mayWrite(team.acl, key)) throw new TeamError(`you may not write "${key}" (team.board.write of your group)`, 'denied', { key });
    if (value.length > MAX_BOARD_VALUE_CHARS) throw new TeamError(`the value has ${value.length} characters; at most ${MAX_BOARD_VALUE_CHARS} fit`, 'invalid', { key });
    if (ttlSeconds !== undefined && (ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS)) throw new TeamError(`ttlSeconds must be between 1 and ${MAX_TTL_SECONDS}`, 'invalid');
    const done = this.board.write(team.name, key, value, group.name, expectedVersion, ttlSeconds);
    if (!done.ok && done.problem === 'full') throw new TeamError(`the team board is full (${MAX_BOARD_KEYS} keys); delete keys first`, 'refused', { key });
    if (!done.ok) {
      const current = done.current ? `version ${done.current.version}: ${JSON.stringify(done.current.value)}` : 'no entry';
      throw new TeamError(`"${key}" changed since you read it (you expected version ${expectedVersion}); it is now ${current}. Read it again and retry.`, 'refused', { key, conflict: true });
    }
    this.audit.append({ kind: 'team', group: group.name, actor, detail: { action: 'board_write', team: team.name, key, version: done.entry.version, chain } });
    return done.entry;
  }

  delete(group: GroupConfig, key: string, actor: string, chain: string | null): boolean {
    const team = teamOf(group);
    checkKey(key);
    if (!mayWrite(team.acl, key)) throw new TeamError(`you may not delete "${key}" (team.board.write of your group)`, 'denied', { key });
    const deleted = this.board.delete(team.name, key);
    this.audit.append({ kind: 'team', group: group.name, actor, detail: { action: 'board_delete', team: team.name, key, deleted, chain } });
    return deleted;
  }
}

function teamOf(group: GroupConfig): NonNullable<GroupConfig['team']> {
  if (!group.team) throw new TeamError('your group is in no team', 'refused');
  return group.team;
}

function checkKey(key: string): void {
  if (!BOARD_KEY_RE.test(key)) throw new TeamError('a key is lowercase segments separated by /, such as trip/plan (at most 8 segments of 64 characters)', 'invalid');
}

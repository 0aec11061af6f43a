import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { WriteResult } from './operations.js';
import { newToken, tokenHash } from './secret-token.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  /** Public id: shown by `enclave dashboard sessions`, used to revoke, and in audit actors. */
  id: string;
  csrf: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
  userAgent: string;
  /** The answer of the last change, shown once on the next page. */
  flash?: WriteResult;
}

export type SessionInfo = Omit<Session, 'csrf' | 'flash'>;

/**
 * Dashboard sessions, in memory (a restart ends them all). The cookie holds a random secret;
 * only its hash is kept, and the public id is unrelated to it.
 */
export class Sessions {
  private readonly byHash = new Map<string, Session>();

  constructor(private readonly clock: Clock) {}

  /** A new session and the cookie value that proves it. */
  open(userAgent: string): { session: Session; cookie: string } {
    const cookie = newToken();
    const now = this.clock();
    const session: Session = { id: randomBytes(6).toString('hex'), csrf: newToken(), createdAt: now, expiresAt: now + SESSION_TTL_MS, lastSeenAt: now, userAgent: userAgent.slice(0, 200) };
    this.byHash.set(tokenHash(cookie), session);
    return { session, cookie };
  }

  /** The live session behind a cookie value, or undefined (an expired one is dropped). */
  find(cookie: string | undefined): Session | undefined {
    if (!cookie) return undefined;
    const hash = tokenHash(cookie);
    const session = this.byHash.get(hash);
    if (!session) return undefined;
    const now = this.clock();
    if (now >= session.expiresAt) {
      this.byHash.delete(hash);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  list(): SessionInfo[] {
    const now = this.clock();
    return [...this.byHash.values()].filter((s) => s.expiresAt > now).map(({ csrf: _csrf, flash: _flash, ...info }) => info);
  }

  /** Ends sessions whose id starts with the given prefix (at least 4 characters); returns how many. */
  revoke(idPrefix: string): number {
    if (idPrefix.length < 4) return 0;
    let ended = 0;
    for (const [hash, s] of this.byHash) {
      if (s.id.startsWith(idPrefix)) {
        this.byHash.delete(hash);
        ended++;
      }
    }
    return ended;
  }

  revokeAll(): number {
    const n = this.byHash.size;
    this.byHash.clear();
    return n;
  }
}

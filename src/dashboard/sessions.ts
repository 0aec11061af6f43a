import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { WriteResult } from './operations.js';
import { newToken, tokenHash } from './secret-token.js';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** A session not used for this long ends, whatever its lifetime left. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;

/** A session's start or end, for the audit log. */
export interface SessionEvent {
  action: 'dashboard_login' | 'dashboard_logout' | 'dashboard_revoked';
  sessionId: string;
  userAgent: string;
}

/** A User-Agent fit for a log line and a terminal: no control characters, at most 200 characters. */
export const cleanUserAgent = (userAgent: string): string =>
  [...userAgent].filter((ch) => { const code = ch.codePointAt(0)!; return code >= 0x20 && (code < 0x7f || code > 0x9f); }).join('').slice(0, 200);

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

  constructor(
    private readonly clock: Clock,
    private readonly record: (event: SessionEvent) => void = () => undefined,
  ) {}

  /** A new session and the cookie value that proves it. */
  open(userAgent: string): { session: Session; cookie: string } {
    const cookie = newToken();
    const now = this.clock();
    const session: Session = { id: randomBytes(6).toString('hex'), csrf: newToken(), createdAt: now, expiresAt: now + SESSION_TTL_MS, lastSeenAt: now, userAgent: cleanUserAgent(userAgent) };
    this.byHash.set(tokenHash(cookie), session);
    this.record({ action: 'dashboard_login', sessionId: session.id, userAgent: session.userAgent });
    return { session, cookie };
  }

  /** The live session behind a cookie value, marked as used now, or undefined (an expired or idle one is dropped). */
  find(cookie: string | undefined): Session | undefined {
    const session = this.peek(cookie);
    if (session) session.lastSeenAt = this.clock();
    return session;
  }

  /** The live session behind a cookie value, without counting this as use (the live stream asks this way). */
  peek(cookie: string | undefined): Session | undefined {
    if (!cookie) return undefined;
    const hash = tokenHash(cookie);
    const session = this.byHash.get(hash);
    if (!session) return undefined;
    if (!this.live(session)) {
      this.byHash.delete(hash);
      return undefined;
    }
    return session;
  }

  private live(session: Session): boolean {
    const now = this.clock();
    return now < session.expiresAt && now - session.lastSeenAt < SESSION_IDLE_MS;
  }

  /** Ends one session because its owner logged out. */
  logOut(session: Session): void {
    for (const [hash, s] of this.byHash) if (s === session) this.byHash.delete(hash);
    this.record({ action: 'dashboard_logout', sessionId: session.id, userAgent: session.userAgent });
  }

  list(): SessionInfo[] {
    return [...this.byHash.values()].filter((s) => this.live(s)).map(({ csrf: _csrf, flash: _flash, ...info }) => info);
  }

  /** Ends sessions whose id starts with the given prefix (at least 4 characters); returns how many. */
  revoke(idPrefix: string): number {
    if (idPrefix.length < 4) return 0;
    let ended = 0;
    for (const [hash, s] of this.byHash) {
      if (!s.id.startsWith(idPrefix)) continue;
      this.end(hash, s);
      ended++;
    }
    return ended;
  }

  revokeAll(): number {
    const n = this.byHash.size;
    for (const [hash, s] of this.byHash) this.end(hash, s);
    return n;
  }

  private end(hash: string, session: Session): void {
    this.byHash.delete(hash);
    this.record({ action: 'dashboard_revoked', sessionId: session.id, userAgent: session.userAgent });
  }
}

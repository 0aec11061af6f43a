import type { Clock } from '../clock.js';
import { newToken, tokenHash } from './secret-token.js';

export const LOGIN_TOKEN_TTL_MS = 10 * 60 * 1000;

/** One-time login tokens for `enclave dashboard`: kept hashed, each valid once, for ten minutes. */
export class LoginTokens {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  issue(): string {
    this.sweep();
    const token = newToken();
    this.expiries.set(tokenHash(token), this.clock() + LOGIN_TOKEN_TTL_MS);
    return token;
  }

  /** True once for a live token; a used, expired or unknown one is false. */
  redeem(token: string): boolean {
    const hash = tokenHash(token);
    const expiresAt = this.expiries.get(hash);
    this.expiries.delete(hash);
    return expiresAt !== undefined && this.clock() < expiresAt;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [hash, expiresAt] of this.expiries) if (expiresAt <= now) this.expiries.delete(hash);
  }
}

/**
 * Tokens the fake has issued: opaque random strings shaped like Fernet tokens (URL-safe, 183
 * characters, `gAAAAAB...`), what each one stands for, expiry and revocation, and how Keystone's
 * token provider answers a token it cannot use (token/provider.py validate_token).
 */
import { randomBytes } from 'node:crypto';

export type TokenScope =
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system' }
  | { kind: 'unscoped' };

export interface TokenRecord {
  id: string;
  userId: string;
  methods: string[];
  /** [this token's audit id] or [its own, the one of the token it was made from]. */
  auditIds: string[];
  /** ms since the epoch, whole seconds (Fernet keeps seconds). */
  issuedAt: number;
  expiresAt: number;
  scope: TokenScope;
  appCredId: string | null;
  revoked: boolean;
}

/** Why a token does not validate, with Keystone's 404 message for it. */
export type TokenProblem = 'missing' | 'unrecognized' | 'invalid';

export const TOKEN_PROBLEM_MESSAGES: Record<TokenProblem, string> = {
  missing: 'No token in the request',
  // Keystone's Fernet provider cannot decrypt it: a token it never issued
  unrecognized: 'Could not recognize Fernet token',
  // expired (past any allowed window) or revoked
  invalid: 'Failed to validate token',
};

/** A Fernet token's version byte and timestamp start with these characters; the rest is random. */
const PREFIX = 'gAAAAAB';

/** Keystone's random_urlsafe_str: 16 random bytes, URL-safe base64 without padding (22 characters). */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

export class TokenStore {
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(private readonly pruneAfterMs: number) {}

  add(record: Omit<TokenRecord, 'id' | 'revoked'>): TokenRecord {
    this.prune(Date.now());
    const id = PREFIX + randomBytes(132).toString('base64url');
    const token: TokenRecord = { ...record, id, revoked: false };
    this.tokens.set(id, token);
    return token;
  }

  /**
   * The token if it is usable now, or `windowMs` past its expiry (`?allow_expired`), and not
   * revoked; otherwise why not.
   */
  check(id: string | undefined, windowMs: number, now = Date.now()): TokenRecord | TokenProblem {
    if (!id) return 'missing';
    const token = this.tokens.get(id);
    if (!token) return 'unrecognized';
    if (now >= token.expiresAt + windowMs) return 'invalid';
    if (token.revoked) return 'invalid';
    return token;
  }

  /** Revokes by audit id, as Keystone's revocation events do: only this token, not those made from it. */
  revoke(id: string): boolean {
    const token = this.tokens.get(id);
    if (!token) return false;
    token.revoked = true;
    return true;
  }

  /** Forgets tokens that no window can make valid again (they then read as never issued). */
  private prune(now: number): void {
    for (const [id, t] of this.tokens) if (now >= t.expiresAt + this.pruneAfterMs) this.tokens.delete(id);
  }
}

/** Keystone's token time format: `2026-12-03T12:00:00.000000Z` (Fernet keeps whole seconds). */
export function keystoneTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '.000000Z');
}

/**
 * TempAuth tokens in the shared cache, as Swift keeps them in memcache:
 * `<prefix>/token/<token>` → [expires (epoch seconds), group string] and
 * `<prefix>/user/<account:user>` → the user's current token, both for token_life seconds.
 * A login reuses the current token while it is unexpired and its group *set* is unchanged.
 */
import { randomUUID } from 'node:crypto';
import type { SharedCache } from '../../proxy/info-cache';

export type TokenRecord = [expires: number, groups: string];

export class TokenStore {
  constructor(
    private readonly cache: SharedCache,
    private readonly resellerPrefix: string,
    private readonly tokenLife: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  private tokenKey(token: string): string {
    return `${this.resellerPrefix}/token/${token}`;
  }

  private userKey(accountUser: string): string {
    return `${this.resellerPrefix}/user/${accountUser}`;
  }

  /** The group string of a valid, unexpired token; undefined otherwise. */
  async groups(token: string): Promise<string | undefined> {
    const rec = await this.cache.get<TokenRecord>(this.tokenKey(token));
    if (!Array.isArray(rec) || rec.length !== 2 || typeof rec[0] !== 'number' || typeof rec[1] !== 'string') return undefined;
    if (rec[0] < this.now()) return undefined;
    return rec[1] || undefined;
  }

  /** The token to hand out for a successful login, and its expiry time. */
  async issue(accountUser: string, groups: string): Promise<{ token: string; expires: number }> {
    const candidate = await this.cache.get<string>(this.userKey(accountUser));
    if (typeof candidate === 'string' && candidate) {
      const rec = await this.cache.get<TokenRecord>(this.tokenKey(candidate));
      if (Array.isArray(rec) && typeof rec[0] === 'number' && typeof rec[1] === 'string' && rec[0] > this.now() && (rec[1] === groups || sameSet(rec[1].split(','), groups.split(',')))) {
        return { token: candidate, expires: rec[0] };
      }
    }
    const token = `${this.resellerPrefix}tk${randomUUID().replace(/-/g, '')}`;
    const expires = this.now() + this.tokenLife;
    const ttl = expires - this.now();
    // Swift stores both with raise_on_error=True: a token memcached did not keep fails the login (503).
    const store = (key: string, value: unknown) => (this.cache.setOrFail ? this.cache.setOrFail(key, value, ttl) : this.cache.set(key, value, ttl));
    await store(this.tokenKey(token), [expires, groups] satisfies TokenRecord);
    await store(this.userKey(accountUser), token);
    return { token, expires };
  }
}

function sameSet(a: string[], b: string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const x of sa) if (!sb.has(x)) return false;
  return true;
}
